#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "common/time_util.h"
#include "datasets/column_file.h"
#include "datasets/column_stats.h"
#include "datasets/column_types.h"
#include "datasets/table_parser.h"

namespace loupe::datasets {
namespace {

RawTable Parse(const std::string& text, FileFormat f = FileFormat::kCsv) {
  auto t = ParseTable(text, f);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : RawTable{};
}

std::string Error(const std::string& text, FileFormat f = FileFormat::kCsv) {
  auto t = ParseTable(text, f);
  return t.ok() ? "" : t.status().message();
}

TEST(TableParser, CsvQuotingAndMissingValues) {
  RawTable t = Parse("\xEF\xBB\xBFname,note,score\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\",1.5\r\nAda,,NA\n\n");
  ASSERT_EQ(t.columns.size(), 3u);
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.columns[0].name, "name");
  EXPECT_EQ(*t.columns[0].cells[0], "Smith, J");
  EXPECT_EQ(*t.columns[1].cells[0], "said \"hi\"\nthen left");
  EXPECT_FALSE(t.columns[1].cells[1].has_value());
  EXPECT_FALSE(t.columns[2].cells[1].has_value());
}

constexpr const char* kHowToSkip =
    ". Fix them, or upload again with skip_bad_rows to leave them out (they are listed and kept for download)";

TEST(TableParser, ErrorsNameLineAndColumn) {
  EXPECT_EQ(Error("a,b\n1,2\n3\n"), std::string("1 bad row: line 3: expected 2 fields, found 1") + kHowToSkip);
  EXPECT_EQ(Error("a,b\n1,\"open\n"), std::string("1 bad row: line 2: column 2: unterminated quoted field") + kHowToSkip);
  EXPECT_EQ(Error("a,b\n\"x\"y,2\n"), std::string("1 bad row: line 2: column 1: unexpected character after a closing quote") + kHowToSkip);
  EXPECT_EQ(Error("a,a\n1,2\n"), "line 1, column 2: duplicate column name \"a\"");
  EXPECT_EQ(Error("\"a,b\n1,2\n"), "line 1, column 1: unterminated quoted field");  // the header cannot be skipped
  EXPECT_EQ(Error(""), "the file is empty: expected a header line");
  EXPECT_EQ(Error("[{\"a\": 1}, 3]", FileFormat::kJson), std::string("1 bad row: element 2: expected an object") + kHowToSkip);
  EXPECT_EQ(Error("{\"a\": 1}\n{\"a\": \n", FileFormat::kJsonl), std::string("1 bad row: line 2: invalid JSON") + kHowToSkip);
  EXPECT_EQ(Error("{\"a\": {\"b\": 1}}\n", FileFormat::kJsonl),
            std::string("1 bad row: line 1: field \"a\" holds a nested value (only flat objects are rows)") + kHowToSkip);
  EXPECT_NE(Error("[{\"a\": 1},\n{\"a\": }]", FileFormat::kJson).find("line 2: invalid JSON"), std::string::npos);
}

// Every bad row is reported at once (the first ten in the message), not one per upload.
TEST(TableParser, EveryBadRowIsReportedAndCanBeSkipped) {
  std::string csv = "a,b,c\n1,2,3\n";
  for (int i = 0; i < 12; ++i) csv += (i % 2 ? "4,5\n" : "4,5,6,7\n");
  csv += "8,\"x\"y,9\n10,11,12\n13,\"never closed,14\n15,16,17\n";
  const std::string err = Error(csv);
  EXPECT_EQ(err.substr(0, 50), "14 bad rows: line 3: expected 3 fields, found 4; l");
  EXPECT_NE(err.find("; and 4 more. Fix them"), std::string::npos) << err;

  BadRowReport report;
  auto t = ParseTable(csv, FileFormat::kCsv, {}, ParseOptions{true, &report});
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows(), 3u);  // 1,2,3 and 10,11,12 and 15,16,17: nothing good is lost
  EXPECT_EQ(*t->columns[0].cells[1], "10");
  EXPECT_EQ(*t->columns[2].cells[2], "17");
  EXPECT_EQ(report.count, 14u);
  ASSERT_EQ(report.first.size(), 14u);
  EXPECT_EQ(report.first[0].line, 3u);
  EXPECT_EQ(report.first[0].reason, "expected 3 fields, found 4");
  EXPECT_EQ(report.first[12].line, 15u);
  EXPECT_EQ(report.first[12].reason, "column 2: unexpected character after a closing quote");
  EXPECT_EQ(report.first[13].line, 17u);
  EXPECT_EQ(report.header, "a,b,c");
  EXPECT_EQ(report.first[13].reason, "column 2: unterminated quoted field");
  // The skipped rows as written, one a line.
  EXPECT_EQ(report.lines.substr(0, 16), "4,5,6,7\n4,5\n4,5,");
  EXPECT_NE(report.lines.find("8,\"x\"y,9\n"), std::string::npos);
  EXPECT_TRUE(report.lines.ends_with("\n13,\"never closed,14\n")) << report.lines;

  // Over a hundred: all counted, the first hundred listed.
  std::string many = "a,b\n";
  for (int i = 0; i < 250; ++i) many += "1\n";
  BadRowReport big;
  ASSERT_TRUE(ParseTable(many + "1,2\n", FileFormat::kCsv, {}, ParseOptions{true, &big}).ok());
  EXPECT_EQ(big.count, 250u);
  EXPECT_EQ(big.first.size(), BadRowReport::kListed);

  // Classic Mac line breaks (a lone CR): only the bad row goes, and its text alone.
  BadRowReport cr;
  auto mac = ParseTable("a,b\r0,0\r1,\"x\"y\r2,3\r4,5\r", FileFormat::kCsv, {}, ParseOptions{true, &cr});
  ASSERT_TRUE(mac.ok()) << mac.status().message();
  EXPECT_EQ(mac->rows(), 3u);
  EXPECT_EQ(*mac->columns[0].cells[2], "4");
  EXPECT_EQ(cr.count, 1u);
  EXPECT_EQ(cr.first[0].line, 3u);
  EXPECT_EQ(cr.lines, "1,\"x\"y\n");
  EXPECT_EQ(cr.header, "a,b");
  // The header as written, a quoted line break and blank lines before it included;
  // a row broken by its quote is named by the line it starts on.
  BadRowReport quoted;
  auto q = ParseTable("\n\"a\nx\",b\r\n1,\"abc\n2,\"x\",3\n4,5\n", FileFormat::kCsv, {}, ParseOptions{true, &quoted});
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(quoted.header, "\"a\nx\",b");
  ASSERT_EQ(quoted.count, 1u);
  EXPECT_EQ(quoted.first[0].line, 4u);
  EXPECT_EQ(q->rows(), 1u);
  // JSON arrays name the element as it stands in the file, in file order.
  BadRowReport arr;
  ASSERT_TRUE(ParseTable("[1, {\"a\": [1]}, {\"a\": 2}, \"s\"]", FileFormat::kJson, {}, ParseOptions{true, &arr}).ok());
  ASSERT_EQ(arr.count, 3u);
  EXPECT_EQ(arr.first[0].reason, "element 1: expected an object");
  EXPECT_EQ(arr.first[1].reason, "element 2: field \"a\" holds a nested value (only flat objects are rows)");
  EXPECT_EQ(arr.first[2].reason, "element 4: expected an object");
  // Where skipping cannot be offered (a file sent for prediction), the error says so.
  ParseOptions strict;
  strict.suggest_skip = false;
  auto refused = ParseTable("a,b\n1\n", FileFormat::kCsv, {}, strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "1 bad row: line 2: expected 2 fields, found 1. Fix them and send the file again");

  BadRowReport jsonl;
  auto j = ParseTable("{\"a\": 1}\nnot json\n[1]\n{\"a\": {\"b\": 2}}\n{\"a\": 3}\n", FileFormat::kJsonl, {},
                      ParseOptions{true, &jsonl});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->rows(), 2u);
  EXPECT_EQ(jsonl.count, 3u);
  EXPECT_EQ(jsonl.lines, "not json\n[1]\n{\"a\": {\"b\": 2}}\n");
}

// Found by fuzz/dataset_table: a number beyond a double's range is nlohmann's
// out_of_range, not a parse_error, and escaped ParseTable as an exception (a 500).
TEST(TableParser, JsonNumberBeyondADoubleIsAnError) {
  EXPECT_EQ(Error("[{\"a\": 2e2002}]", FileFormat::kJson), "invalid JSON (number overflow parsing '2e2002')");
  EXPECT_EQ(Error("{\"a\": 1e400}\n", FileFormat::kJsonl), std::string("1 bad row: line 1: invalid JSON") + kHowToSkip);
}

// A Latin-1 header ("caf\xe9") failed the upload with an exception when the catalogue
// row was serialised: names are made UTF-8 (U+FFFD for each bad byte) as they are read.
TEST(TableParser, HeaderNamesAreMadeUtf8) {
  RawTable t = Parse("caf\xe9,caf\xc3\xa9,\xc0\xaf,\xed\xa0\x80x,\xf0\x9f\x98\x80\n1,2,3,4,5\n");
  ASSERT_EQ(t.columns.size(), 5u);
  EXPECT_EQ(t.columns[0].name, "caf\uFFFD");
  EXPECT_EQ(t.columns[1].name, "caf\u00e9");
  EXPECT_EQ(t.columns[2].name, "\uFFFD\uFFFD");  // overlong '/'
  EXPECT_EQ(t.columns[3].name, "\uFFFD\uFFFD\uFFFDx");  // a UTF-16 surrogate
  EXPECT_EQ(t.columns[4].name, "\U0001F600");
  EXPECT_EQ(*t.columns[0].cells[0], "1");
  EXPECT_EQ(Error("caf\xe9,caf\xe8\n1,2\n"), "line 1, column 2: duplicate column name \"caf\uFFFD\"");
}

TEST(TableParser, JsonRecordsUnionTheirKeys) {
  RawTable t = Parse(R"([{"a": 1, "b": "x"}, {"b": null, "c": true}])", FileFormat::kJson);
  ASSERT_EQ(t.columns.size(), 3u);
  RawTable order = Parse(R"({"z": 1, "a": 2})" "\n", FileFormat::kJsonl);
  EXPECT_EQ(order.columns[0].name, "z");  // the file's order, not sorted
  EXPECT_EQ(*t.columns[0].cells[0], "1");
  EXPECT_FALSE(t.columns[0].cells[1].has_value());
  EXPECT_FALSE(t.columns[1].cells[1].has_value());
  EXPECT_EQ(*t.columns[2].cells[1], "true");
  RawTable tsv = Parse("x\ty\n1\t2\n", FileFormat::kTsv);
  EXPECT_EQ(*tsv.columns[1].cells[0], "2");
  EXPECT_EQ(FormatFromName("data.NDJSON"), FileFormat::kJsonl);
  EXPECT_FALSE(FormatFromName("data.xlsx").has_value());
}

TEST(ColumnTypes, InfersEachType) {
  RawTable t = Parse(
      "n,b,d,c,txt\n"
      "1.5,true,2026-01-02,cat,the quick brown fox jumps over the lazy dog again\n"
      "-2e3,No,2026-01-03T10:00:00Z,dog,another rather long sentence that is free text\n"
      ",yes,2026-01-04 08:30,cat,\n");
  EXPECT_EQ(InferColumnType(t.columns[0]), ColumnType::kNumeric);
  EXPECT_EQ(InferColumnType(t.columns[1]), ColumnType::kBoolean);
  EXPECT_EQ(InferColumnType(t.columns[2]), ColumnType::kDatetime);
  EXPECT_EQ(InferColumnType(t.columns[3]), ColumnType::kCategorical);
  EXPECT_EQ(InferColumnType(t.columns[4]), ColumnType::kText);
  RawColumn ids{"id", {"a1", "a2", "a3", "a4"}};
  EXPECT_EQ(InferColumnType(ids), ColumnType::kText);  // all distinct: not labels
  RawColumn empty{"e", {std::nullopt, std::nullopt}};
  EXPECT_EQ(InferColumnType(empty), ColumnType::kText);
}

// An ID beyond 2^53 would be rounded as a number (12345678901234567 -> ...568), so a
// column holding one is not inferred numeric; one a double holds exactly still is.
TEST(ColumnTypes, IntegersADoubleCannotHoldKeepTheColumnText) {
  EXPECT_NE(InferColumnType(RawColumn{"id", {"12345678901234567", "2", "3"}}), ColumnType::kNumeric);
  EXPECT_NE(InferColumnType(RawColumn{"id", {"-9007199254740993", "1"}}), ColumnType::kNumeric);
  EXPECT_EQ(InferColumnType(RawColumn{"id", {"9007199254740992", "1"}}), ColumnType::kNumeric);
  EXPECT_EQ(InferColumnType(RawColumn{"x", {"1.2345678901234567", "1e300", "0000000000000000042"}}), ColumnType::kNumeric);
  Column kept = *ConvertColumn(RawColumn{"id", {"12345678901234567"}},
                               InferColumnType(RawColumn{"id", {"12345678901234567", "12345678901234567"}}));
  EXPECT_EQ(kept.CellText(0), "12345678901234567");
}

TEST(ColumnTypes, ParsersAreStrict) {
  EXPECT_EQ(*ParseNumber(" 3.25 "), 3.25);
  EXPECT_TRUE(std::isinf(*ParseNumber("-inf")));
  EXPECT_FALSE(ParseNumber("3.2.1"));
  EXPECT_FALSE(ParseNumber("0x10"));
  EXPECT_FALSE(ParseNumber("1e999"));
  EXPECT_EQ(*ParseIsoMicros("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(*ParseIsoMicros("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(ParseIsoMicros("2026-13-01"));
  EXPECT_FALSE(ParseIsoMicros("2026-01-01T25:00"));
  EXPECT_FALSE(ParseIsoMicros("yesterday"));
}

TEST(ColumnTypes, ConversionNamesTheBadRow) {
  RawColumn c{"age", {"31", "forty", std::nullopt}};
  auto r = ConvertColumn(c, ColumnType::kNumeric);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "column \"age\", row 2: \"forty\" is not a numeric value");
  auto text = ConvertColumn(c, ColumnType::kText);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(text->IsMissing(2));
  auto flags = ConvertColumn(RawColumn{"f", {"1", "0", "yes"}}, ColumnType::kBoolean);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->flags, (std::vector<int8_t>{1, 0, 1}));
}

// A yes/no column reads back, is stored and predicts as it was written, not as true/false.
TEST(ColumnTypes, BooleansKeepTheirSpelling) {
  Column yn = *ConvertColumn(RawColumn{"churn", {"yes", "no", std::nullopt, "Yes"}}, ColumnType::kBoolean);
  EXPECT_EQ(yn.flags, (std::vector<int8_t>{1, 0, -1, 1}));
  EXPECT_EQ(yn.CellText(0), "yes");
  EXPECT_EQ(yn.CellText(1), "no");
  EXPECT_EQ(yn.CellText(3), "yes");  // one spelling per value: the first written
  EXPECT_EQ(ConvertColumn(RawColumn{"f", {"TRUE"}}, ColumnType::kBoolean)->categories,
            (std::vector<std::string>{"FALSE", "TRUE"}));
  EXPECT_EQ(ConvertColumn(RawColumn{"f", {"No"}}, ColumnType::kBoolean)->categories,
            (std::vector<std::string>{"No", "Yes"}));
  EXPECT_EQ(ConvertColumn(RawColumn{"f", {"0", "1"}}, ColumnType::kBoolean)->CellText(1), "1");
  EXPECT_EQ(ConvertColumn(RawColumn{"f", {"true", "false"}}, ColumnType::kBoolean)->CellText(1), "false");
  EXPECT_TRUE(ConvertColumn(RawColumn{"f", {std::nullopt}}, ColumnType::kBoolean)->categories.empty());

  Table table;
  table.columns.push_back(yn);
  TempDir dir;
  ASSERT_TRUE(WriteColumnFile(dir.path() + "/columns.bin", table).ok());
  auto back = ReadColumnFile(dir.path() + "/columns.bin");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->columns[0].CellText(0), "yes");
  EXPECT_EQ(back->columns[0].CellText(1), "no");
}

TEST(ColumnFile, RoundTripsEveryType) {
  RawTable raw = Parse(
      "n,b,d,c,t\n1.5,true,2026-01-02,x,hello\n,false,,y,\n-0.25,,2026-01-03T04:05:06Z,x,\"multi\nline\"\n");
  Table table;
  for (const RawColumn& rc : raw.columns) table.columns.push_back(*ConvertColumn(rc, InferColumnType(rc)));
  table.columns[4].type_overridden = true;
  TempDir dir;
  std::string path = dir.path() + "/columns.bin";
  ASSERT_TRUE(WriteColumnFile(path, table).ok());
  auto back = ReadColumnFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->rows(), 3u);
  for (size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(back->columns[c].type, table.columns[c].type);
    for (size_t r = 0; r < 3; ++r) EXPECT_EQ(back->columns[c].CellText(r), table.columns[c].CellText(r)) << c << "," << r;
  }
  EXPECT_TRUE(back->columns[4].type_overridden);
  EXPECT_EQ(back->columns[2].CellText(2), "2026-01-03T04:05:06Z");
  EXPECT_TRUE(back->columns[0].IsMissing(1));
  // A truncated file is reported, not misread.
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 4);
  auto broken = ReadColumnFile(path);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), Code::kCorrupt);
}

TEST(CellList, KeepsPresentEmptyAndMissingCellsApart) {
  CellList cells{"a", std::nullopt, "", "longer than fifteen bytes"};
  cells.push_missing(2);
  cells.push_back(std::string("z"));
  ASSERT_EQ(cells.size(), 7u);
  EXPECT_EQ(*cells[0], "a");
  EXPECT_FALSE(cells[1].has_value());
  EXPECT_EQ(*cells[2], "");
  EXPECT_EQ(*cells[3], "longer than fifteen bytes");
  EXPECT_FALSE(cells[4].has_value());
  EXPECT_FALSE(cells[5].has_value());
  EXPECT_EQ(*cells[6], "z");
}

TEST(TableParser, RefusesTooManyCellsWhileReading) {
  ParseLimits limits;
  limits.max_cells = 10;  // 3 columns: 3 rows fit, the 4th does not
  auto fits = ParseTable("a,b,c\n1,2,3\n4,5,6\n7,8,9\n", FileFormat::kCsv, limits);
  ASSERT_TRUE(fits.ok()) << fits.status().message();
  // The error past the limit is never reached: the file is refused where the cells
  // run out, before the rest of it is read.
  auto over = ParseTable("a,b,c\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n\"unterminated", FileFormat::kCsv, limits);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kTooLarge);
  EXPECT_EQ(over.status().message(),
            "line 5: the file has more than 10 cells (rows x columns: 3 columns reach it at row 4); the limit is 10 "
            "cells: upload fewer rows or columns");
  auto jsonl = ParseTable("{\"a\": 1, \"b\": 2}\n{\"a\": 1, \"b\": 2}\n{\"a\": 1, \"b\": 2}\n"
                          "{\"a\": 1, \"b\": 2}\n{\"a\": 1, \"b\": 2}\n{\"a\": 1, \"b\": 2}\n{",
                          FileFormat::kJsonl, limits);
  ASSERT_FALSE(jsonl.ok());
  EXPECT_EQ(jsonl.status().code(), Code::kTooLarge);
  EXPECT_EQ(jsonl.status().message().substr(0, 7), "line 6:");
  // JSON: the union of keys times the records, before any cell is built.
  auto json = ParseTable(R"([{"a": 1}, {"b": 2}, {"c": 3}, {"d": 4}])", FileFormat::kJson, limits);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), Code::kTooLarge);
  EXPECT_EQ(ParseTable(R"([{"a": 1}, {"b": 2}, {"c": 3}])", FileFormat::kJson, limits).status().code(), Code::kOk);
}

TEST(ColumnFile, ReadsASliceOfColumnsWithoutTheOthers) {
  RawTable raw = Parse("n,t,c,b,d\n1.5,hello,x,true,2026-01-02\n,\"two\nlines\",y,,\n3,,x,false,2026-01-03\n");
  Table table;
  for (const RawColumn& rc : raw.columns) table.columns.push_back(*ConvertColumn(rc, InferColumnType(rc)));
  TempDir dir;
  const std::string path = dir.path() + "/columns.bin";
  ASSERT_TRUE(WriteColumnFile(path, table).ok());
  auto slice = ReadColumnFileSlice(path, 1, 2);  // t (text) and c (categorical)
  ASSERT_TRUE(slice.ok()) << slice.status().message();
  EXPECT_EQ(slice->rows, 3u);
  EXPECT_EQ(slice->total_columns, 5u);
  EXPECT_EQ(slice->first, 1u);
  ASSERT_EQ(slice->table.columns.size(), 2u);
  EXPECT_EQ(slice->table.columns[0].name, "t");
  EXPECT_EQ(slice->table.columns[0].CellText(1), "two\nlines");
  EXPECT_TRUE(slice->table.columns[0].IsMissing(2));
  EXPECT_EQ(slice->table.columns[1].CellText(1), "y");
  auto tail = ReadColumnFileSlice(path, 4, 100);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->table.columns.size(), 1u);
  EXPECT_EQ(tail->table.columns[0].CellText(2), "2026-01-03T00:00:00Z");
  auto past = ReadColumnFileSlice(path, 9, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->table.columns.empty());
  EXPECT_EQ(past->rows, 3u);
  // A text column whose offsets point past the end of the file is damaged, sliced or not.
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 30);
  EXPECT_EQ(ReadColumnFileSlice(path, 4, 1).status().code(), Code::kCorrupt);
  EXPECT_EQ(ReadColumnFileSlice(path, 0, 1).status().code(), Code::kOk);  // before the damage
}

TEST(ColumnStats, MatchesHandComputedValues) {
  Column n = *ConvertColumn(RawColumn{"x", {"1", "2", "3", "4", std::nullopt}}, ColumnType::kNumeric);
  auto s = ColumnStats(n);
  EXPECT_EQ(s["count"], 4);
  EXPECT_EQ(s["missing"], 1);
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(s["std"].get<double>(), std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(s["median"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(s["q25"].get<double>(), 1.75);
  Column c = *ConvertColumn(RawColumn{"y", {"a", "b", "a", std::nullopt}}, ColumnType::kCategorical);
  auto cs = ColumnStats(c);
  EXPECT_EQ(cs["distinct"], 2);
  EXPECT_EQ(cs["top"][0]["value"], "a");
  EXPECT_EQ(cs["top"][0]["count"], 2);
}

TEST(ColumnTypes, NumbersPrintInTheirShortestExactForm) {
  RawColumn raw{"x", {"10", "0.1", "1e20", "-2.5", "123456789012", "0.30000000000000004"}};
  Column c = *ConvertColumn(raw, ColumnType::kNumeric);
  std::vector<std::string> text;
  for (size_t r = 0; r < c.size(); ++r) text.push_back(c.CellText(r));
  EXPECT_EQ(text, (std::vector<std::string>{"10", "0.1", "1e+20", "-2.5", "123456789012", "0.30000000000000004"}));
}

}  // namespace
}  // namespace loupe::datasets
