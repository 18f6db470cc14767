#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "store/store.h"

namespace loupe {
namespace {

class ChatStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    LlmModel m;
    m.name = "m";
    m.api = "openai";
    m.base_url = "http://h/v1";
    m.model = "x";
    model_ = store_->CreateLlmModel(m, 10)->id;
  }
  Prediction APrediction(int64_t conversation) {
    Prediction p;
    p.time = 1;
    p.model_id = model_;
    p.model_name = "m";
    p.api = "openai";
    p.provider_model = "x";
    p.messages_json = "[]";
    p.response = "answer";
    p.outcome = "ok";
    p.latency_ms = 12.5;
    p.completion_tokens = 3;
    p.conversation_id = conversation;
    return p;
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t model_ = 0;
};

TEST_F(ChatStoreTest, AnAnswerAndItsPredictionAreRecordedTogether) {
  Conversation c;
  c.title = "t";
  c.model_id = model_;
  c = *store_->CreateConversation(c);
  ChatMessageRecord user;
  user.conversation_id = c.id;
  user.content = "q";
  user.create_time = 5;
  user = *store_->AddUserMessage(user);
  ChatMessageRecord answer;
  answer.conversation_id = c.id;
  answer.content = "answer";
  answer.reply_to = user.id;
  answer.model_id = model_;
  answer.model_name = "m";
  answer.create_time = 9;
  Result<ChatMessageRecord> recorded = store_->RecordAnswer(answer, APrediction(c.id));
  ASSERT_TRUE(recorded.ok()) << recorded.status().message();
  ASSERT_TRUE(recorded->prediction_id);
  std::vector<ChatMessageRecord> all = *store_->ListMessages(c.id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].prediction_id, recorded->prediction_id);
  EXPECT_EQ(all[1].reply_to, user.id);
  Prediction p = *store_->GetPrediction(*recorded->prediction_id);
  EXPECT_EQ(p.latency_ms, 12.5);
  EXPECT_EQ(p.completion_tokens, 3);
  EXPECT_FALSE(p.prompt_tokens);  // unknown stays unknown
  EXPECT_FALSE(p.cost_usd);
  EXPECT_EQ(store_->GetConversation(c.id)->update_time, 9);
  EXPECT_EQ(store_->ListConversations(10, 0)->front().message_count, 2);
}

TEST_F(ChatStoreTest, AConversationDeletedWhileItsAnswerStreamedKeepsThePrediction) {
  Conversation c;
  c.title = "gone";
  c = *store_->CreateConversation(c);
  ASSERT_TRUE(store_->DeleteConversation(c.id).ok());
  ChatMessageRecord answer;
  answer.conversation_id = c.id;
  answer.content = "late";
  Result<ChatMessageRecord> recorded = store_->RecordAnswer(answer, APrediction(c.id));
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded->id, 0);  // no message: the conversation is gone
  EXPECT_EQ(store_->GetPrediction(*recorded->prediction_id)->response, "answer");
  ChatMessageRecord user;
  user.conversation_id = c.id;
  user.content = "q";
  EXPECT_EQ(store_->AddUserMessage(user).status().code(), Code::kNotFound);
}

TEST_F(ChatStoreTest, RemovingAModelKeepsItsConversationsAndPredictions) {
  Conversation c;
  c.title = "t";
  c.model_id = model_;
  c = *store_->CreateConversation(c);
  Result<ChatMessageRecord> recorded = store_->RecordAnswer(ChatMessageRecord{0, c.id, "assistant", "a"}, APrediction(c.id));
  ASSERT_TRUE(recorded.ok());
  ASSERT_TRUE(store_->DeleteLlmModel(model_).ok());
  EXPECT_FALSE(store_->GetConversation(c.id)->model_id);  // unset, not dangling
  EXPECT_EQ(store_->GetPrediction(*recorded->prediction_id)->model_name, "m");
  Conversation bad;
  bad.model_id = model_;
  EXPECT_EQ(store_->CreateConversation(bad).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace loupe
