"""Train a small PyTorch classifier on scikit-learn's bundled digits and log it to Loupe.

    python3 examples/train_classifier.py --host http://127.0.0.1:8080

Uses Debian's python3-torch and python3-sklearn; the SDK is on PYTHONPATH
(sdk/python) or installed with `pip install ./sdk/python`.
"""
import argparse
import math

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import loupe


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default=None, help="Loupe URL (default $LOUPE_URL or http://127.0.0.1:8080)")
    parser.add_argument("--project", default="examples")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, random_state=args.seed, stratify=y)

    config = {"model": "mlp", "hidden": 64, "lr": args.lr, "epochs": args.epochs,
              "batch_size": args.batch_size, "seed": args.seed, "dataset": "sklearn digits"}
    run = loupe.init(project=args.project, name=f"digits-mlp-lr{args.lr}", config=config, host=args.host)

    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    batches = math.ceil(len(x_train) / args.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * batches)
    loss_fn = torch.nn.CrossEntropyLoss()

    step = 0
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train))
        for b in range(batches):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            run.log({"train/loss": loss.item(), "train/lr": scheduler.get_last_lr()[0]}, step=step)
            scheduler.step()
            step += 1
        model.eval()
        with torch.no_grad():
            val_logits = model(x_val)
            val_loss = loss_fn(val_logits, y_val).item()
            val_acc = (val_logits.argmax(1) == y_val).float().mean().item()
            train_acc = (model(x_train).argmax(1) == y_train).float().mean().item()
        run.log({"val/loss": val_loss, "val/acc": val_acc, "train/acc": train_acc, "epoch": epoch}, step=step - 1)
        print(f"epoch {epoch + 1}/{args.epochs}  val_loss {val_loss:.4f}  val_acc {val_acc:.4f}")

    ok = run.finish()
    print(f"logged run {run.run_id} (experiment {run.id}); final val_acc {val_acc:.4f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
