// Model cards and `embq embed`: vectors equal a direct libtorch call, padding and
// length bucketing change nothing, rows come out in input order, bad input is refused; a
// card beside the model is found and a quantized output carries it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/model.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using test::fixture;

Encoding encoding(std::vector<int64_t> ids) {
    Encoding e;
    e.type_ids.assign(ids.size(), 0);
    e.ids = std::move(ids);
    return e;
}

std::vector<int64_t> random_ids(int64_t length, int64_t seed) {
    std::vector<int64_t> ids{2};  // [CLS]
    for (int64_t i = 1; i + 1 < length; ++i) ids.push_back(5 + (seed * 131 + i * 17) % 400);
    ids.push_back(3);  // [SEP]
    return ids;
}

Embedder bert_embedder() {
    std::string how;
    auto model = load_model(fixture("bert_traced.pt")).module;
    return Embedder(model,
                    infer_model_card(model.get_method("forward").function().getSchema(), how));
}

TEST(ModelCard, ParsesEveryKeyAndResolvesTheTokenizerPath) {
    const auto card = parse_model_card(
        nlohmann::json::parse(R"({"inputs": ["input_ids", "token_type_ids", "attention_mask"],
            "max_length": 64, "output": {"index": 1}, "pooling": "cls", "normalize": true,
            "tokenizer": "tok/tokenizer.json"})"),
        "card.json", "/models/x");
    EXPECT_EQ(card.inputs,
              (std::vector<std::string>{"input_ids", "token_type_ids", "attention_mask"}));
    EXPECT_EQ(card.max_length, 64);
    EXPECT_EQ(card.output.kind, OutputSelector::Kind::TupleIndex);
    EXPECT_EQ(card.output.index, 1);
    EXPECT_EQ(card.pooling, Pooling::Cls);
    EXPECT_TRUE(card.normalize);
    EXPECT_EQ(card.tokenizer, std::filesystem::path("/models/x/tok/tokenizer.json"));
    const auto dict = parse_model_card(
        nlohmann::json::parse(R"({"output": {"key": "sentence_embedding"}})"), "c", ".");
    EXPECT_EQ(dict.output.kind, OutputSelector::Kind::DictKey);
    EXPECT_EQ(dict.output.key, "sentence_embedding");
}

TEST(ModelCard, MistakesAreOneLineInputErrors) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"poolng": "mean"})", "did you mean 'pooling'"},
        {R"({"pooling": "avg"})", "none, mean, cls, max"},
        {R"({"inputs": ["input_ids", "pixel_values"]})", "pixel_values"},
        {R"({"output": {"index": -1}})", "output"},
        {R"({"max_length": 1})", "max_length"},
        {R"([1, 2])", "JSON object"},
    };
    for (const auto& [text, needle] : cases) {
        try {
            parse_model_card(nlohmann::json::parse(text), "card.json", ".");
            ADD_FAILURE() << "accepted " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Input);
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("card.json"), std::string::npos) << e.what();
        }
    }
}

TEST(ModelCard, InferredFromForwardSignature) {
    std::string how;
    const auto card =
        infer_model_card(forward_schema(load_model(fixture("bert_scripted.pt"))), how);
    EXPECT_EQ(card.inputs, (std::vector<std::string>{"input_ids", "attention_mask"}));
    EXPECT_EQ(card.pooling, Pooling::None);
    EXPECT_NE(how.find("input_ids"), std::string::npos) << how;
}

TEST(Embedder, EqualsADirectLibtorchCall) {
    Embedder embedder = bert_embedder();
    std::vector<Encoding> encodings;
    for (int64_t i = 0; i < 4; ++i) encodings.push_back(encoding(random_ids(12, i)));
    std::vector<const Encoding*> batch;
    for (const auto& e : encodings) batch.push_back(&e);
    const at::Tensor got = embedder.embed(batch);

    at::Tensor ids = at::empty({4, 12}, at::kLong);
    for (int64_t r = 0; r < 4; ++r)
        for (int64_t c = 0; c < 12; ++c) ids[r][c] = encodings[r].ids[c];
    auto model = load_model(fixture("bert_traced.pt")).module;
    c10::InferenceMode guard;
    const at::Tensor direct = model.forward({ids, at::ones({4, 12}, at::kLong)}).toTensor();
    EXPECT_TRUE(at::equal(got, direct));
}

TEST(Embedder, PaddingInAMixedBatchChangesNothing) {
    Embedder embedder = bert_embedder();
    std::vector<Encoding> encodings = {encoding(random_ids(5, 1)), encoding(random_ids(30, 2)),
                                       encoding(random_ids(2, 3))};
    std::vector<const Encoding*> batch;
    for (const auto& e : encodings) batch.push_back(&e);
    const at::Tensor together = embedder.embed(batch);
    for (size_t i = 0; i < encodings.size(); ++i) {
        const at::Tensor alone = embedder.embed({&encodings[i]});
        EXPECT_TRUE(at::allclose(together[i], alone[0], 1e-5, 1e-5)) << "row " << i;
    }
}

// A model that returns token embeddings [N, T, D], so pooling is embq's job.
torch::jit::Module token_embedding_model() {
    torch::jit::Module m("Tokens");
    at::manual_seed(5);
    m.register_parameter("weight", at::randn({50, 6}), false);
    m.define(
        "def forward(self, input_ids, attention_mask):\n"
        "    return torch.embedding(self.weight, input_ids)\n");
    return m;
}

TEST(Embedder, PoolingFollowsTheAttentionMaskAndNormalizes) {
    auto model = token_embedding_model();
    const at::Tensor table = model.attr("weight").toTensor();
    Encoding a = encoding({1, 2, 3}), b = encoding({4, 5});
    for (Pooling pooling : {Pooling::Mean, Pooling::Cls, Pooling::Max}) {
        ModelCard card;
        card.pooling = pooling;
        Embedder embedder(model, card);
        const at::Tensor got = embedder.embed({&a, &b});  // b is padded with id 0
        const at::Tensor rows_b = table.index_select(0, at::tensor({4, 5}, at::kLong));
        const at::Tensor want_b = pooling == Pooling::Mean  ? rows_b.mean(0)
                                  : pooling == Pooling::Cls ? rows_b[0]
                                                            : std::get<0>(rows_b.max(0));
        EXPECT_TRUE(at::allclose(got[1], want_b, 1e-6, 1e-6)) << to_string(pooling);
    }
    ModelCard card;
    card.pooling = Pooling::Mean;
    card.normalize = true;
    Embedder embedder(model, card);
    const at::Tensor norms = embedder.embed({&a, &b}).norm(2, 1);
    EXPECT_TRUE(at::allclose(norms, at::ones({2}), 1e-6, 1e-6));
}

TEST(Embedder, TokenEmbeddingsWithoutPoolingAreAClearError) {
    Embedder embedder(token_embedding_model(), ModelCard{});
    Encoding a = encoding({1, 2});
    try {
        embedder.embed({&a});
        FAIL() << "a 3-D output needs pooling";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("pooling"), std::string::npos) << e.what();
    }
}

TEST(EmbedDataset, RowsInInputOrderDespiteBucketingAndTruncationCounted) {
    test::TempDir dir;
    std::string jsonl;
    const std::vector<int64_t> lengths = {9, 3, 40, 3, 17, 2, 25, 6, 200, 4, 11};
    for (size_t i = 0; i < lengths.size(); ++i)
        jsonl +=
            nlohmann::json{{"input_ids", random_ids(lengths[i], static_cast<int64_t>(i))}}.dump() +
            "\n";
    jsonl += "\n";  // an empty line, skipped and counted
    test::write_file(dir / "ids.jsonl", jsonl);

    Embedder embedder = bert_embedder();  // max_length 128: the 200-token record is cut
    DatasetReader reader(dir / "ids.jsonl", DatasetFormat::Jsonl);
    EmbedOptions options;
    options.batch_size = 2;
    options.window = 5;  // several windows, each sorted by length
    Vectors v;
    auto collect = [&](const float* rows, int64_t count, int64_t dim) {
        v.dim = dim;
        v.rows += count;
        v.data.insert(v.data.end(), rows, rows + count * dim);
    };
    const auto stats = embed_dataset(embedder, nullptr, reader, collect, options);
    EXPECT_EQ(stats.texts, lengths.size());
    EXPECT_EQ(stats.truncated, 1u);
    EXPECT_EQ(stats.empty_skipped, 1u);

    ASSERT_EQ(v.rows, static_cast<int64_t>(lengths.size()));
    for (size_t i = 0; i < lengths.size(); ++i) {
        Encoding e = encoding(random_ids(lengths[i], static_cast<int64_t>(i)));
        if (e.ids.size() > 128)
            e = encoding(std::vector<int64_t>(e.ids.begin(), e.ids.begin() + 128));
        const at::Tensor alone = embedder.embed({&e})[0];
        const at::Tensor row =
            at::from_blob(const_cast<float*>(v.data.data()) + i * v.dim, {v.dim});
        EXPECT_TRUE(at::allclose(row, alone, 1e-5, 1e-5)) << "row " << i;
    }
}

TEST(EmbedCli, TextWithTheFixtureVocabularyMatchesTheLibrary) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt",
                     "the cat sat on the mat\n\nHello, World!\nembeddings keep their neighbours\n");
    const auto r = test::run_embq(
        {"embed", fixture("bert_traced.pt").string(), "--data", (dir / "texts.txt").string(),
         "--tokenizer", fixture("vocab.txt").string(), "--out", (dir / "v.fvecs").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Vectors v = read_vectors(dir / "v.fvecs");
    EXPECT_EQ(v.rows, 3);
    EXPECT_EQ(v.dim, 64);

    const auto tokenizer = load_tokenizer(fixture("vocab.txt"));
    Embedder embedder = bert_embedder();
    const Encoding e = tokenizer->encode("Hello, World!", 128);
    const at::Tensor expected = embedder.embed({&e})[0];
    const at::Tensor row = at::from_blob(const_cast<float*>(v.data.data()) + v.dim, {v.dim});
    EXPECT_TRUE(at::allclose(row, expected, 1e-5, 1e-5));
}

TEST(EmbedCli, BadInputExitsTwoAndWritesNothing) {
    test::TempDir dir;
    test::write_file(dir / "bad.txt", "fine\nbroken \xC3\x28 text\n");
    test::write_file(dir / "ok.txt", "fine\n");
    const std::string model = fixture("bert_traced.pt").string();
    const std::string vocab = fixture("vocab.txt").string();
    struct Case {
        std::vector<std::string> args;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {{"--data", (dir / "bad.txt").string(), "--tokenizer", vocab}, ":2:"},
        {{"--data", (dir / "ok.txt").string()}, "tokenizer"},
        {{"--data", (dir / "missing.txt").string(), "--tokenizer", vocab}, "missing.txt"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"embed", model, "--out", (dir / "out.npy").string()};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto r = test::run_embq(args);
        EXPECT_EQ(r.exit_code, kExitBadInput) << r.err;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
        EXPECT_FALSE(std::filesystem::exists(dir / "out.npy"));
    }
    const auto r = test::run_embq({"embed", model, "--data", (dir / "ok.txt").string(),
                                   "--tokenizer", vocab, "--out", (dir / "out.csv").string()});
    EXPECT_EQ(r.exit_code, kExitBadInput) << r.err;
}

// A model directory as users keep one: the model, its card and the tokenizer it names.
struct ModelWithCard {
    test::TempDir dir;
    std::filesystem::path model = dir / "src" / "model.pt", texts = dir / "texts.txt";
    ModelWithCard() {
        std::filesystem::create_directories(dir / "src");
        std::filesystem::create_directories(dir / "out");
        std::filesystem::copy_file(fixture("bert_traced.pt"), model);
        std::filesystem::copy_file(fixture("vocab.txt"), dir / "src" / "vocab.txt");
        test::write_file(dir / "src" / "card.json", R"({"tokenizer": "vocab.txt"})");
        test::write_file(texts, test::fixture_sentences(40, 9));
    }
    test::RunResult embed(const std::filesystem::path& model_path, const std::string& out,
                          std::vector<std::string> more = {}) const {
        std::vector<std::string> args = {"embed", model_path.string(), "--data", texts.string(),
                                         "--out", (dir / out).string()};
        args.insert(args.end(), more.begin(), more.end());
        return test::run_embq(args);
    }
};

TEST(CardCli, ACardBesideTheModelIsFoundAndTheQuantizedOutputCarriesIt) {
    ModelWithCard m;
    const auto fp32 = m.embed(m.model, "fp32.npy");
    ASSERT_EQ(fp32.exit_code, kExitOk) << fp32.err;
    test::expect_contains(fp32.err, {"card.json (found beside the model"});

    // The output lands where there is no card; it needs no flags all the same.
    const std::filesystem::path q = m.dir / "out" / "q.pt";
    const auto quantize =
        test::run_embq({"quantize", m.model.string(),
                        (std::filesystem::path(EMBQ_SOURCE_DIR) / "configs" / "int8.json").string(),
                        "-o", q.string()});
    ASSERT_EQ(quantize.exit_code, kExitOk) << quantize.err;
    const auto carried = m.embed(q, "carried.npy");
    ASSERT_EQ(carried.exit_code, kExitOk) << carried.err;
    test::expect_contains(carried.err, {"card: carried by q.pt", "tokenizer: WordPiece"});
    const auto given = m.embed(q, "given.npy", {"--tokenizer", fixture("vocab.txt").string()});
    ASSERT_EQ(given.exit_code, kExitOk) << given.err;
    EXPECT_EQ(test::read_file(m.dir / "carried.npy"), test::read_file(m.dir / "given.npy"));

    // eval of the pair needs no flags either.
    const auto eval =
        test::run_embq({"eval", "--baseline", m.model.string(), "--candidate", q.string(), "--data",
                        m.texts.string(), "--gate", "cosine.p5>=0.9"});
    EXPECT_EQ(eval.exit_code, kExitOk) << eval.err;

    // The carried files travel in the archive as extra files: stock PyTorch still loads it.
    const std::string check =
        std::string(EMBQ_TORCH_PYTHON) +
        " -c \"import sys, json, torch; e = {'embq_card.json': ''}; "
        "torch.jit.load(sys.argv[1], _extra_files=e); "
        "assert json.loads(e['embq_card.json'])['tokenizer'] == 'vocab.txt'\" " +
        q.string();
    EXPECT_EQ(std::system(check.c_str()), 0);
}

// A model directory (model, card, tokenizer) stands for its model file everywhere a model
// is read: the card beside it is found and the vectors are the file's.
TEST(CardCli, AModelDirectoryIsReadAsTheModelInsideIt) {
    ModelWithCard m;
    const auto file = m.embed(m.model, "file.npy");
    ASSERT_EQ(file.exit_code, kExitOk) << file.err;
    const auto directory = m.embed(m.dir / "src", "dir.npy");
    ASSERT_EQ(directory.exit_code, kExitOk) << directory.err;
    test::expect_contains(directory.err, {"card.json (found beside the model"});
    EXPECT_EQ(test::read_file(m.dir / "file.npy"), test::read_file(m.dir / "dir.npy"));

    // Quantizing into the directory is still refused when the output is the model inside.
    const auto over = test::run_embq(
        {"quantize", (m.dir / "src").string(), "--scheme", "int8_dynamic", "-o", m.model.string()});
    EXPECT_EQ(over.exit_code, kExitBadInput) << over.err;
    test::expect_contains(over.err, {"is the input"});

    // Without model.pt, the one .pt file; with several, a one-line error naming them.
    std::filesystem::rename(m.model, m.dir / "src" / "bert.pt");
    EXPECT_EQ(m.embed(m.dir / "src", "one.npy").exit_code, kExitOk);
    std::filesystem::copy_file(m.dir / "src" / "bert.pt", m.dir / "src" / "other.pt");
    const auto two = m.embed(m.dir / "src", "two.npy");
    EXPECT_EQ(two.exit_code, kExitBadInput) << two.err;
    test::expect_contains(two.err, {"2 .pt files (bert.pt, other.pt)", "name the model file"});
    EXPECT_FALSE(std::filesystem::exists(m.dir / "two.npy"));
}

TEST(CardCli, ABrokenCardBesideTheModelIsNamed) {
    ModelWithCard m;
    test::write_file(m.dir / "src" / "card.json", R"({"poolng": "mean"})");
    const auto r = m.embed(m.model, "v.npy");
    EXPECT_EQ(r.exit_code, kExitBadInput);
    test::expect_contains(r.err, {"card.json", "did you mean 'pooling'"});
    EXPECT_FALSE(std::filesystem::exists(m.dir / "v.npy"));
    // --card names another card, and the broken one is not read.
    test::write_file(m.dir / "good.json",
                     R"({"tokenizer": ")" + fixture("vocab.txt").string() + R"("})");
    const auto given = m.embed(m.model, "v.npy", {"--card", (m.dir / "good.json").string()});
    EXPECT_EQ(given.exit_code, kExitOk) << given.err;
}

}  // namespace
}  // namespace embq
