// SqliteStore: conversations, their messages, and predictions.
#include "store/prediction_rows.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kConversationColumns =
    "c.id, c.title, c.model_id, c.system, c.params, c.create_time, c.update_time, c.created_by";
constexpr const char* kMessageColumns =
    "id, conversation_id, role, content, reply_to, model_id, model_name, prediction_id, error, create_time";

Conversation ConversationFrom(const sql::Rows& q) {
  Conversation c;
  c.id = q.Int(0);
  c.title = q.Text(1);
  c.model_id = q.OptionalInt(2);
  c.system = q.Text(3);
  c.params_json = q.Text(4);
  c.create_time = q.Int(5);
  c.update_time = q.Int(6);
  c.created_by = q.Text(7);
  return c;
}

ChatMessageRecord MessageFrom(const sql::Rows& q) {
  ChatMessageRecord m;
  m.id = q.Int(0);
  m.conversation_id = q.Int(1);
  m.role = q.Text(2);
  m.content = q.Text(3);
  m.reply_to = q.OptionalInt(4);
  m.model_id = q.OptionalInt(5);
  m.model_name = q.Text(6);
  m.prediction_id = q.OptionalInt(7);
  m.error = q.Text(8);
  m.create_time = q.Int(9);
  return m;
}

Status ModelExists(SqliteDb& db, const std::optional<int64_t>& id) {
  if (!id) return Status::Ok();
  sql::Rows q(db, "SELECT 1 FROM llm_models WHERE id=?", *id);
  bool found = q.Next();
  LOUPE_RETURN_IF_ERROR(q.status());
  return found ? Status::Ok() : Status::NotFound("model " + std::to_string(*id) + " not found");
}

}  // namespace

Result<Conversation> SqliteStore::CreateConversation(const Conversation& c) {
  Conversation created = c;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(ModelExists(db, c.model_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO conversations(title, model_id, system, params, create_time, "
                                    "update_time, created_by) VALUES(?,?,?,?,?,?,?)",
                                    c.title, c.model_id, c.system, c.params_json, c.create_time, c.update_time,
                                    c.created_by));
    created.id = db.LastInsertId();
    return Status::Ok();
  }));
  return created;
}

Status SqliteStore::UpdateConversation(const Conversation& c) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(ModelExists(db, c.model_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "UPDATE conversations SET title=?, model_id=?, system=?, params=?, update_time=? "
                                    "WHERE id=?",
                                    c.title, c.model_id, c.system, c.params_json, c.update_time, c.id));
    if (db.Changes() == 0) return Status::NotFound("conversation " + std::to_string(c.id) + " not found");
    return Status::Ok();
  });
}

Result<Conversation> SqliteStore::GetConversation(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kConversationColumns + " FROM conversations c WHERE c.id=?", id);
  if (q.Next()) return ConversationFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("conversation " + std::to_string(id) + " not found");
}

Result<std::vector<Conversation>> SqliteStore::ListConversations(int64_t limit, int64_t offset) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              std::string("SELECT ") + kConversationColumns +
                  ", (SELECT count(*) FROM chat_messages m WHERE m.conversation_id=c.id) FROM conversations c "
                  "ORDER BY c.update_time DESC, c.id DESC LIMIT ? OFFSET ?",
              limit, offset);
  std::vector<Conversation> out;
  while (q.Next()) {
    out.push_back(ConversationFrom(q));
    out.back().message_count = q.Int(8);
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::DeleteConversation(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM conversations WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("conversation " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Result<ChatMessageRecord> SqliteStore::AddUserMessage(const ChatMessageRecord& m) {
  ChatMessageRecord added = m;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO chat_messages(conversation_id, role, content, create_time) "
                                    "SELECT id, 'user', ?, ? FROM conversations WHERE id=?",
                                    m.content, m.create_time, m.conversation_id));
    if (db.Changes() == 0) return Status::NotFound("conversation " + std::to_string(m.conversation_id) + " not found");
    added.id = db.LastInsertId();
    added.role = "user";
    return sql::Exec(db, "UPDATE conversations SET update_time=? WHERE id=?", m.create_time, m.conversation_id);
  }));
  return added;
}

Result<std::vector<ChatMessageRecord>> SqliteStore::ListMessages(int64_t conversation_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kMessageColumns + " FROM chat_messages WHERE conversation_id=? ORDER BY id",
              conversation_id);
  std::vector<ChatMessageRecord> out;
  while (q.Next()) out.push_back(MessageFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<ChatMessageRecord> SqliteStore::GetMessage(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kMessageColumns + " FROM chat_messages WHERE id=?", id);
  if (q.Next()) return MessageFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("message " + std::to_string(id) + " not found");
}

Result<ChatMessageRecord> SqliteStore::RecordAnswer(const ChatMessageRecord& a, const Prediction& p) {
  ChatMessageRecord recorded = a;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(recorded.prediction_id, InsertPrediction(db, p));
    // A conversation deleted while its answer streamed keeps only the prediction.
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO chat_messages(conversation_id, role, content, reply_to, model_id, "
                                    "model_name, prediction_id, error, create_time) "
                                    "SELECT id, 'assistant', ?, ?, ?, ?, ?, ?, ? FROM conversations WHERE id=?",
                                    a.content, a.reply_to, a.model_id, a.model_name, recorded.prediction_id, a.error,
                                    a.create_time, a.conversation_id));
    recorded.id = db.Changes() == 0 ? 0 : db.LastInsertId();
    recorded.role = "assistant";
    return sql::Exec(db, "UPDATE conversations SET update_time=? WHERE id=?", a.create_time, a.conversation_id);
  }));
  return recorded;
}

Result<int64_t> SqliteStore::RecordPrediction(const Prediction& p) {
  int64_t id = 0;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(id, InsertPrediction(db, p));
    return Status::Ok();
  }));
  return id;
}

Result<Prediction> SqliteStore::GetPrediction(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kPredictionColumnsOfP + " FROM predictions p WHERE p.id=?", id);
  if (q.Next()) return PredictionAt(q, 0);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("prediction " + std::to_string(id) + " not found");
}

}  // namespace loupe
