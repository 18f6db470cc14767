"""Writes CLaaS data folders exactly as CLaaS lays them out (../shared/specs/claas-formats.md):
feedback logs (local and Tinker engines) and eval-harness results, plus the broken
files the dashboards must survive. Used by the page tests, browser tests and benches."""
import json
import os
import struct
import zlib


def png_bytes(width=4, height=3, rgb=(59, 91, 219)):
    """A real, valid PNG (what matplotlib's savefig would leave), built with zlib."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def feedback_log(request_id, timestamp, lora="user/my-lora", mode="local", samples=None, status="ok",
                 phase="done", error=None, step=1):
    samples = samples or [{"prompt": "What is machine learning?", "response": "Machine learning is ...",
                           "feedback": "Be more concise"}]
    batch = []
    for s in samples:
        batch.append({
            "feedback": s["feedback"],
            "prompt": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                      + s["prompt"] + "<|im_end|>\n<|im_start|>assistant\n",
            "prompt_token_ids": [151644, 8948], "response": s["response"], "response_logprobs": [-0.01, -0.4],
            "response_token_ids": [151667, 271], "system_prompt": "You are a helpful assistant.",
            "user_prompt": s["prompt"]})
    if mode == "local":
        metadata = {"batch_size": len(samples), "clip_fraction": 0.0, "distill_loss": 0.41 / step,
                    "grad_norm": 0.87, "kl_reg": 0.003 * step, "mean_is_ratio": 1.02,
                    "teacher_scored_texts": ["teacher says: " + s["response"] for s in samples],
                    "tokens_processed": 2, "total_loss": 0.41 / step, "future_key": "kept"}
    elif mode == "tinker":
        metadata = {"step": step, "adv_mean": 0.12 / step, "adv_abs_mean": 0.3, "adv_abs_mean_raw": 0.31,
                    "kl_mean": 0.02 * step, "effective_kl_coef": 0.05, "kl_gain": 1.5, "lr": 1e-5,
                    "batch_size": len(samples), "completion_len": 128, "loss_fn": "importance_sampling",
                    "timestamp": timestamp, "tinker_path": "tinker://run/1", "sampler_weights_path": "tinker://w/1",
                    "teacher_scored_texts": []}
    else:
        metadata = None
    return {
        "batch_samples": batch,
        "distill_result": None if metadata is None else {"lora_id": lora, "metadata": metadata},
        "error": error, "lora_id": lora, "phase": phase, "request_id": request_id,
        "requests": [{"feedback": s["feedback"], "lora_id": lora, "prompt": s["prompt"], "response": s["response"],
                      "training": {"alpha": 0.5, "is_clip": 5.0, "kl_reg_weight": 0.0, "learning_rate": 3e-05,
                                   "max_grad_norm": 1.0, "teacher_top_k": 100}} for s in samples],
        "status": status, "timestamp_utc": timestamp,
        "timing_ms": {"distill": 9350, "logprobs": 0, "save": 0, "sleep": 812, "total": 11020, "wake": 640},
        "vllm": {"slept": True, "woke": True},
    }


def write_feedback(folder, index, log, name=None):
    os.makedirs(folder, exist_ok=True)
    ts = log["timestamp_utc"].replace("-", "").replace(":", "").rstrip("Z")
    name = name or f"{ts}-{log['request_id']}.json"
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        json.dump(log, f, indent=2, sort_keys=True, ensure_ascii=False)
    return name


def request_id(i):
    return f"{i:032x}"


def timestamp(i):
    return f"2026-02-24T{10 + i // 3600 % 14:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"


def eval_metrics(margin, compliance, general=0.8, rollout_text="Sure! Here is the answer."):
    return {
        "logprob_margin": {"positive_logprob": -10.0, "negative_logprob": -10.0 - margin, "margin": margin,
                           "margin_delta_from_baseline": margin - 0.5},
        "preference_compliance": compliance,
        "general": {"coding_correct": True, "coding_has_docstring": False, "ifeval_pass_rate": 0.7,
                    "general_score": general},
        "collapse": {"mean_entropy": 2.1, "mean_logprob": -1.2, "entropy_ratio_to_baseline": 0.98,
                     "self_rouge_l": 0.3, "mean_logprob_drift": 0.01, "alert": False},
        "rollouts": [{"metric": "compliance", "messages": [{"role": "user", "content": "Say hi"},
                                                          {"role": "assistant", "content": rollout_text}],
                      "metadata": {"score": compliance}}],
    }


def write_eval_run(root, run_id, preferences=("concise", "no_emoji"), steps=3, finished=True, mode="local",
                   mtime=None, plots=("learning_curves.png", "logprob_margins.png")):
    run = os.path.join(root, run_id)
    os.makedirs(os.path.join(run, "plots"), exist_ok=True)
    for p in plots:
        with open(os.path.join(run, "plots", p), "wb") as f:
            f.write(png_bytes())
    summary = {}
    for pref in preferences:
        d = os.path.join(run, pref)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "metadata.json"), "w") as f:
            json.dump({"config": {"steps": steps, "lr": 3e-5}, "lora_id": f"eval/{pref}", "preference": pref}, f)
        with open(os.path.join(d, "baseline.json"), "w") as f:
            json.dump(eval_metrics(0.5, 0.2), f)
        with open(os.path.join(d, "steps.jsonl"), "w") as f:
            for s in range(steps):
                sdpo = ({"adv_mean": 0.1 / (s + 1), "kl_mean": 0.01, "effective_kl_coef": 0.05, "kl_gain": 1.0,
                         "adv_abs_mean": 0.2, "adv_abs_mean_raw": 0.2, "completion_len": 64, "batch_size": 4}
                        if mode == "tinker" else
                        {"distill_loss": 0.5 / (s + 1), "kl_reg": 0.001, "mean_is_ratio": 1.0, "clip_fraction": 0.0})
                f.write(json.dumps({"preference": pref, "step": s, "timestamp": f"2026-02-24T10:1{s}:00Z",
                                    "feedback_given": f"Be {pref} please", "sdpo_metrics": sdpo,
                                    "eval": eval_metrics(0.5 + 0.4 * s, 0.2 + 0.25 * s),
                                    "prompt_used": "Tell me about cats", "response_text": f"Cats ({s})",
                                    "timing_s": 12.5 + s, "sub_step_count": 1}) + "\n")
        summary[pref] = {"preference": pref, "lora_id": f"eval/{pref}", "logprob_margin_delta": 0.4 * (steps - 1),
                         "final_compliance": 0.2 + 0.25 * (steps - 1), "capability_ratio": 0.97}
    if finished:
        with open(os.path.join(run, "summary.json"), "w") as f:
            json.dump(summary, f)
    if mtime is not None:
        target = os.path.join(run, "summary.json") if finished else os.path.join(run, preferences[0], "steps.jsonl")
        os.utime(target, (mtime, mtime))
    return run


def write_demo(data_dir):
    """A small CLaaS data folder: feedback logs of both engines and three eval runs."""
    fb = os.path.join(data_dir, "feedback")
    for i in range(30):
        mode = "tinker" if i % 3 == 0 else "local"
        write_feedback(fb, i, feedback_log(request_id(i), timestamp(i), mode=mode, step=i + 1,
                                           lora="user/tinker-lora" if mode == "tinker" else "user/my-lora"))
    evals = os.path.join(data_dir, "evals")
    write_eval_run(evals, "20260224-101500Z", mtime=1_700_000_000)
    write_eval_run(evals, "20260225-090000Z", mode="tinker", mtime=1_700_100_000)
    write_eval_run(evals, "20260226-120000Z", finished=False, preferences=("identity",), mtime=1_700_200_000)




def write_bench(data_dir, feedback_files=10000, eval_runs=500):
    """The benchmark folder: 10,000 feedback files and 500 eval runs."""
    fb = os.path.join(data_dir, "feedback")
    for i in range(feedback_files):
        write_feedback(fb, i, feedback_log(request_id(i), f"2026-0{1 + i // 5000}-{1 + i // 200 % 25:02d}T"
                                           f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                           mode="tinker" if i % 2 else "local", step=i + 1))
    for r in range(eval_runs):
        write_eval_run(os.path.join(data_dir, "evals"), f"run-{r:04d}", mtime=1_700_000_000 + r)


if __name__ == "__main__":
    import sys
    (write_bench if sys.argv[2:] == ["bench"] else write_demo)(sys.argv[1])
