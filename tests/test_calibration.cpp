// Calibration end to end on the fixture models: what `embq calibrate` observes (every
// linear layer, real tokens only, a shared layer's samples once), that the file is
// reproducible and reusable, and the two things it is for: int8_static and bias
// correction.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "embq/calibrate.hpp"
#include "embq/calibration.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"
#include "embq/quantize.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using nlohmann::json;
using test::fixture;

struct CalibrationData {
    test::TempDir dir;
    std::filesystem::path texts = dir / "calib.txt";
    explicit CalibrationData(size_t count, uint64_t seed = 11) {
        test::write_file(texts, test::fixture_sentences(count, seed));
    }
};

using test::embed_file;
using test::fixture_text;

CalibrationRun calibrate_fixture(const std::string& model, const std::filesystem::path& data,
                                 CalibrateOptions options = {}) {
    return calibrate(fixture(model), fixture_text(), data, DatasetFormat::Text, options);
}

std::vector<std::string> linear_layers(const std::string& model) {
    std::vector<std::string> paths;
    for (const auto& layer : take_inventory(load_model(fixture(model)).module).layers)
        if (layer.kind == LayerKind::Linear) paths.push_back(layer.path);
    return paths;
}

TEST(Calibrate, ObservesEveryLinearLayersInputAndOutput) {
    CalibrationData data(120);
    CalibrateOptions options;
    options.samples = 100;
    options.observers = {"minmax", "percentile:99.9"};
    const CalibrationRun run = calibrate_fixture("bert_traced.pt", data.texts, options);
    EXPECT_EQ(run.samples, 100u);
    const json& layers = run.document.at("layers");
    std::vector<std::string> calibrated;
    for (const auto& [path, layer] : layers.items()) calibrated.push_back(path);
    auto expected = linear_layers("bert_traced.pt");
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(calibrated, expected);

    for (const auto& [path, layer] : layers.items()) {
        SCOPED_TRACE(path);
        EXPECT_EQ(layer.at("samples").get<uint64_t>(), 100u);
        const json& in = layer.at("input");
        EXPECT_GT(in.at("rows").get<uint64_t>(), 100u);  // tokens, not texts
        EXPECT_EQ(in.at("channel_mean").size(), in.at("channels").get<size_t>());
        const json& minmax = in.at("observers").at("minmax");
        const json& pct = in.at("observers").at("percentile:99.9");
        // minmax is the exact extent; the percentile range clips inside it.
        EXPECT_EQ(minmax.at("range")[0].get<double>(), minmax.at("min").get<double>());
        EXPECT_EQ(minmax.at("range")[1].get<double>(), minmax.at("max").get<double>());
        EXPECT_GE(pct.at("range")[0].get<double>(), minmax.at("min").get<double>());
        EXPECT_LE(pct.at("range")[1].get<double>(), minmax.at("max").get<double>());
        EXPECT_TRUE(layer.at("output").at("observers").at("minmax").at("range").is_array());
    }
}

TEST(Calibrate, SameDataGivesAByteIdenticalFile) {
    CalibrationData data(80);
    CalibrateOptions options;
    options.observers = {"mse", "entropy", "moving_average_minmax"};
    const std::string first =
        calibrate_fixture("bert_scripted.pt", data.texts, options).document.dump(2);
    const std::string second =
        calibrate_fixture("bert_scripted.pt", data.texts, options).document.dump(2);
    EXPECT_EQ(first, second);
}

TEST(Calibrate, PaddingPositionsAreNotObserved) {
    // One text per batch has no padding at all; 16 per batch pads most rows. Observing
    // only real tokens, both see the same rows and (up to float summation order) the same
    // extent; counting padding would add rows and move the ranges.
    CalibrationData data(48);
    CalibrateOptions unpadded, padded;
    unpadded.observers = padded.observers = {"minmax"};
    unpadded.batch_size = 1;
    padded.batch_size = 16;
    const json a = calibrate_fixture("bert_traced.pt", data.texts, unpadded).document.at("layers");
    const json b = calibrate_fixture("bert_traced.pt", data.texts, padded).document.at("layers");
    for (const auto& [path, layer] : a.items()) {
        SCOPED_TRACE(path);
        for (const char* side : {"input", "output"}) {
            EXPECT_EQ(layer[side]["rows"], b[path][side]["rows"]);
            const json& ra = layer[side]["observers"]["minmax"]["range"];
            const json& rb = b[path][side]["observers"]["minmax"]["range"];
            for (int i = 0; i < 2; ++i)
                EXPECT_NEAR(ra[i].get<double>(), rb[i].get<double>(),
                            1e-4 * (1 + std::abs(ra[i].get<double>())));
        }
    }
}

TEST(Calibrate, LayerCalledTwiceCountsEachTextOnce) {
    CalibrationData data(40);
    const CalibrationRun run = calibrate_fixture("shared_linear.pt", data.texts);
    const json& shared = run.document.at("layers").at("shared");
    EXPECT_EQ(shared.at("calls").get<int>(), 2);
    EXPECT_EQ(shared.at("samples").get<uint64_t>(), 40u);
    // Both calls' activations are observed: twice the rows of a layer called once.
    EXPECT_EQ(
        shared.at("input").at("rows").get<uint64_t>(),
        2 * run.document.at("layers").at("block_a.fc").at("input").at("rows").get<uint64_t>());
}

TEST(Calibrate, ShortDataWarnsAndEmptyDataFails) {
    CalibrationData data(30);
    CalibrateOptions options;
    options.samples = 1000;
    const CalibrationRun run = calibrate_fixture("bert_traced.pt", data.texts, options);
    EXPECT_EQ(run.samples, 30u);
    ASSERT_FALSE(run.warnings.empty());
    test::expect_contains(run.warnings.front(), {"only 30 texts", "1000"});

    test::TempDir dir;
    test::write_file(dir / "empty.txt", "\n\n");
    try {
        calibrate_fixture("bert_traced.pt", dir / "empty.txt");
        FAIL() << "empty data must fail";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        test::expect_contains(e.what(), {"empty.txt", "no records"});
    }
}

TEST(Calibrate, TooFewBatchesToJudgeConvergenceIsAWarning) {
    CalibrationData data(8);
    const CalibrationRun run = calibrate_fixture("bert_traced.pt", data.texts);
    std::string all;
    for (const auto& w : run.warnings) all += w + "\n";
    test::expect_contains(all, {"too few batches", "--samples"});
}

TEST(Calibrate, UnknownObserverIsAUsageErrorBeforeAnyWork) {
    CalibrateOptions options;
    options.observers = {"percentle"};
    try {
        calibrate(fixture("bert_traced.pt"), fixture_text(), "/nonexistent.txt",
                  DatasetFormat::Text, options);
        FAIL() << "an unknown observer must fail";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Usage);
        test::expect_contains(e.what(), {"percentle", "percentile"});
    }
}

TEST(CalibrationFile, ReadsBackTheSelectedObserversRanges) {
    CalibrationData data(60);
    CalibrateOptions options;
    options.observers = {"minmax", "percentile:99"};
    const json doc = calibrate_fixture("bert_traced.pt", data.texts, options).document;
    Calibration cal = Calibration::from_json(json::parse(doc.dump()), "calib.json");
    const std::string layer = "encoder.layer.0.intermediate.dense";
    const json& stats = doc["layers"][layer];

    EXPECT_EQ(cal.selected_observer(), "minmax");
    auto minmax = cal.layer(layer);
    ASSERT_TRUE(minmax);
    EXPECT_EQ(minmax->input.hi, stats["input"]["observers"]["minmax"]["range"][1].get<double>());
    EXPECT_EQ(minmax->output.lo, stats["output"]["observers"]["minmax"]["range"][0].get<double>());
    EXPECT_EQ(minmax->input_mean.size(), stats["input"]["channels"].get<size_t>());

    cal.select("percentile");  // the kind alone names the file's only percentile spec
    EXPECT_EQ(cal.selected_observer(), cal.observers().at(1));
    EXPECT_EQ(cal.selected_observer().substr(0, 13), "percentile:99");
    EXPECT_LT(cal.layer(layer)->input.hi, minmax->input.hi);
    EXPECT_FALSE(cal.layer("no.such.layer"));
    EXPECT_THROW(cal.select("mse"), Error);
}

TEST(CalibrationFile, RejectsOtherJsonAndOtherVersions) {
    EXPECT_THROW(Calibration::from_json(json{{"layers", json::object()}}, "x.json"), Error);
    EXPECT_THROW(
        Calibration::from_json(json{{"format", kCalibrationFormat}, {"version", 99}}, "x.json"),
        Error);
    EXPECT_THROW(Calibration::load("/nonexistent/calib.json"), Error);
}

// ---------------------------------------------------------------------------------------
// Using it: int8_static and bias correction.

struct Quantized {
    std::filesystem::path path;
    QuantizeResult result;
};

Quantized quantize_with(const std::string& model, const json& doc, const Calibration* cal,
                        const test::TempDir& dir, const std::string& name) {
    const auto out = dir / name;
    QuantizeResult result = test::quantize_file(fixture(model), doc, out, cal);
    return {out, std::move(result)};
}

class Int8StaticOnFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(Int8StaticOnFixtures, KeepsCosineToFp32AtLeast098) {
    CalibrationData calib(200, 5), eval(100, 6);
    CalibrateOptions options;
    options.samples = 200;
    const Calibration cal = Calibration::from_json(
        calibrate_fixture(GetParam(), calib.texts, options).document, "calib");
    const json doc = {{"defaults", {{"linear", {{"scheme", "int8_static"}}}}}};
    const auto q = quantize_with(GetParam(), doc, &cal, calib.dir, "static.pt");
    EXPECT_EQ(q.result.rewritten_calls.size(), linear_layers(GetParam()).size());
    const at::Tensor cos = at::cosine_similarity(embed_file(q.path, eval.texts),
                                                 embed_file(fixture(GetParam()), eval.texts), 1);
    EXPECT_GE(cos.min().item<double>(), 0.98) << "mean " << cos.mean().item<double>();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Int8StaticOnFixtures,
                         ::testing::Values("bert_traced.pt", "bert_scripted.pt",
                                           "shared_linear.pt"),
                         [](const auto& info) {
                             return info.param.substr(0, info.param.find('.'));
                         });

TEST(Int8Static, WithoutCalibrationThePlanAsksForIt) {
    const Config config =
        parse_config({{"defaults", {{"linear", {{"scheme", "int8_static"}}}}}}, "c.json");
    try {
        make_plan(config, take_inventory(load_model(fixture("bert_traced.pt")).module), {});
        FAIL() << "int8_static without calibration must fail";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Config);
        test::expect_contains(e.what(), {"int8_static", "needs calibration", "--calibration"});
    }
}

TEST(BiasCorrection, ReducesTheMeanOutputShift) {
    // int4 weights on the fixture's last linear layer (the rest stays FP32, so the shift
    // comes from it). Its input is a GELU output, mostly positive, so E[x] is far from 0
    // and a weight error shifts every output the same way:
    // the mean of (quantized - FP32) embeddings over held-out texts is that shift, and
    // bias correction, measured on other texts, must remove most of it.
    CalibrationData calib(300, 21), eval(200, 22);
    CalibrateOptions options;
    options.samples = 300;
    const Calibration cal = Calibration::from_json(
        calibrate_fixture("bert_traced.pt", calib.texts, options).document, "calib");
    auto config = [](bool corrected) {
        return json{{"rules",
                     {{{"match", "encoder.layer.1.output.dense"},
                       {"scheme", "int4_weight"},
                       {"granularity", "per_channel"},
                       {"bias_correction", corrected}}}}};
    };
    const auto plain = quantize_with("bert_traced.pt", config(false), &cal, calib.dir, "plain.pt");
    const auto corrected =
        quantize_with("bert_traced.pt", config(true), &cal, calib.dir, "corrected.pt");
    const at::Tensor fp32 = embed_file(fixture("bert_traced.pt"), eval.texts);
    const double shift_plain =
        (embed_file(plain.path, eval.texts) - fp32).mean(0).norm().item<double>();
    const double shift_corrected =
        (embed_file(corrected.path, eval.texts) - fp32).mean(0).norm().item<double>();
    // Measured: 0.37 plain, 0.026 corrected.
    EXPECT_LT(shift_corrected, 0.5 * shift_plain)
        << "plain " << shift_plain << ", corrected " << shift_corrected;
}

TEST(BiasCorrection, OnlyForWeightQuantizedLinearsAndNeedsCalibration) {
    const auto inventory = take_inventory(load_model(fixture("bert_traced.pt")).module);
    PlanOptions with;
    with.have_calibration = true;
    const Config fp16 = parse_config(
        {{"defaults", {{"linear", {{"scheme", "fp16"}, {"bias_correction", true}}}}}}, "c.json");
    EXPECT_THROW(make_plan(fp16, inventory, with), Error);
    const Config int8 = parse_config(
        {{"defaults", {{"linear", {{"scheme", "int8_dynamic"}, {"bias_correction", true}}}}}},
        "c.json");
    EXPECT_THROW(make_plan(int8, inventory, {}), Error);
    const Plan plan = make_plan(int8, inventory, with);
    EXPECT_TRUE(plan.layers.back().options.bias_correction ||
                plan.layers.front().options.bias_correction);
}

// ---------------------------------------------------------------------------------------
// Recovery without training: GPTQ rounding, smoothing, group-wise tables. Each on the
// fixture whose LayerNorm has outlier channels (gain 20 on two), calibrated on one set of
// texts and measured on another: the 5th percentile of per-text cosine to FP32.

double cosine_p5(const std::filesystem::path& model, const std::filesystem::path& texts,
                 const at::Tensor& fp32) {
    const at::Tensor cos = at::cosine_similarity(embed_file(model, texts), fp32, 1);
    return at::quantile(cos, 0.05).item<double>();
}

struct RecoveryCase {
    CalibrationData calib{300, 31}, eval{200, 32};
    Calibration cal;
    at::Tensor fp32 = embed_file(fixture("bert_traced.pt"), eval.texts);
    RecoveryCase() {
        CalibrateOptions options;
        options.samples = 300;
        options.input_gram = true;
        const CalibrationRun run = calibrate_fixture("bert_traced.pt", calib.texts, options);
        cal = Calibration::from_json(run.document, "calib", run.grams);
    }
    double p5(const json& doc, const std::string& name) {
        return cosine_p5(quantize_with("bert_traced.pt", doc, &cal, calib.dir, name).path,
                         eval.texts, fp32);
    }
};

json linear_default(json choice) { return {{"defaults", {{"linear", std::move(choice)}}}}; }

TEST(Recovery, GptqRoundingRaisesCosineOverNearest) {
    RecoveryCase c;
    for (const char* scheme : {"int4_weight", "nf4"}) {
        const double nearest = c.p5(linear_default({{"scheme", scheme}}), "nearest.pt");
        const double gptq =
            c.p5(linear_default({{"scheme", scheme}, {"rounding", "gptq"}}), "gptq.pt");
        EXPECT_GT(gptq, nearest + 0.002) << scheme << ": nearest " << nearest << ", gptq " << gptq;
    }
}

TEST(Recovery, SmoothingRaisesInt8StaticCosine) {
    RecoveryCase c;
    const json plain = linear_default({{"scheme", "int8_static"}, {"granularity", "per_tensor"}});
    json smoothed = plain;
    smoothed["defaults"]["linear"]["smoothing"] = 0.5;
    const double before = c.p5(plain, "plain.pt"), after = c.p5(smoothed, "smoothed.pt");
    EXPECT_GT(after, before) << "plain " << before << ", smoothed " << after;
    // "auto" picks alpha per layer from the calibration statistics alone.
    json searched = plain;
    searched["defaults"]["linear"]["smoothing"] = "auto";
    const double chosen = c.p5(searched, "searched.pt");
    EXPECT_GT(chosen, before) << "plain " << before << ", auto " << chosen;
}

TEST(Recovery, GroupScalesRaiseA4BitTablesCosine) {
    RecoveryCase c;
    const json per_row = {{"defaults", {{"embedding", {{"scheme", "int4_rowwise"}}}}}};
    const json grouped = {
        {"defaults", {{"embedding", {{"scheme", "int4_rowwise"}, {"granularity", "group:16"}}}}}};
    const double before = c.p5(per_row, "rows.pt"), after = c.p5(grouped, "groups.pt");
    EXPECT_GT(after, before) << "per row " << before << ", group:16 " << after;
}

TEST(Recovery, GptqWithoutGramMatricesSaysHowToRecordThem) {
    CalibrationData data(40);
    const auto calib = data.dir / "calib.json";
    const std::string model = fixture("bert_traced.pt").string();
    ASSERT_EQ(test::run_embq({"calibrate", model, "--data", data.texts.string(), "--tokenizer",
                              fixture("vocab.txt").string(), "-o", calib.string()})
                  .exit_code,
              0);
    test::write_file(data.dir / "gptq.json",
                     R"({"defaults": {"linear": {"scheme": "int4_weight", "rounding": "gptq"}}})");
    const auto r = test::run_embq({"quantize", model, (data.dir / "gptq.json").string(),
                                   "--calibration", calib.string(), "-o",
                                   (data.dir / "q.pt").string()});
    EXPECT_EQ(r.exit_code, 2);
    test::expect_contains(r.err, {"no input Gram matrices", "--input-gram", "rounding gptq"});
    EXPECT_FALSE(std::filesystem::exists(data.dir / "q.pt"));
}

// ---------------------------------------------------------------------------------------
// The Gram sidecar and the model check.

TEST(CalibrationFile, GramSidecarRoundTripsAndIsChecked) {
    CalibrationData data(60);
    CalibrateOptions options;
    options.samples = 60;
    options.input_gram = true;
    const CalibrationRun run = calibrate_fixture("bert_traced.pt", data.texts, options);
    ASSERT_EQ(run.grams.size(), linear_layers("bert_traced.pt").size());
    const auto path = data.dir / "calib.json";
    write_calibration(run, path);
    const auto sidecar = data.dir / "calib.gram.bin";
    ASSERT_TRUE(std::filesystem::exists(sidecar));

    const Calibration loaded = Calibration::load(path);
    ASSERT_TRUE(loaded.has_input_grams());
    for (const auto& [layer, gram] : run.grams) {
        SCOPED_TRACE(layer);
        const auto read = loaded.layer(layer)->input_gram;
        ASSERT_TRUE(read);
        EXPECT_EQ(read->values, gram->values);
        EXPECT_EQ(read->rows, run.document["layers"][layer]["input"]["rows"].get<uint64_t>());
        // X^T X: symmetric, with a non-negative diagonal.
        const at::Tensor g = at::from_blob(const_cast<float*>(read->values.data()),
                                           {read->dim, read->dim}, at::kFloat);
        EXPECT_TRUE(at::allclose(g, g.t(), 1e-4, 1e-3));
        EXPECT_TRUE((g.diagonal() >= 0).all().item<bool>());
    }

    const std::string bytes = test::read_file(sidecar);
    auto expect_refused = [&](const std::string& content, const std::string& says) {
        test::write_file(sidecar, content);
        const Error e = test::error_from([&] { Calibration::load(path); });
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        test::expect_contains(e.what(), {"calib.gram.bin", says, "--input-gram"});
    };
    std::string edited = bytes;
    edited[edited.size() / 2] ^= 1;
    expect_refused(edited, "SHA-256");
    expect_refused(bytes.substr(0, bytes.size() - 4), "bytes");
    std::filesystem::remove(sidecar);
    const Error missing = test::error_from([&] { Calibration::load(path); });
    test::expect_contains(missing.what(), {"calib.gram.bin", "cannot read"});
}

TEST(CalibrationFile, AnotherModelsCalibrationIsAnErrorNamingBothHashes) {
    CalibrationData data(30);
    const auto calib = data.dir / "calib.json";
    ASSERT_EQ(test::run_embq({"calibrate", fixture("bert_traced.pt").string(), "--data",
                              data.texts.string(), "--tokenizer", fixture("vocab.txt").string(),
                              "-o", calib.string()})
                  .exit_code,
              0);
    test::write_file(data.dir / "static.json",
                     R"({"defaults": {"linear": {"scheme": "int8_static"}}})");
    const auto r = test::run_embq({"quantize", fixture("bert_scripted.pt").string(),
                                   (data.dir / "static.json").string(), "--calibration",
                                   calib.string(), "-o", (data.dir / "q.pt").string()});
    EXPECT_EQ(r.exit_code, 2);
    const json doc = json::parse(test::read_file(calib));
    test::expect_contains(r.err, {"calibrated on a model with SHA-256",
                                  doc["model"]["sha256"].get<std::string>(), "bert_scripted.pt",
                                  "embq calibrate"});
    EXPECT_FALSE(std::filesystem::exists(data.dir / "q.pt"));
}

// ---------------------------------------------------------------------------------------
// The CLI.

TEST(CalibrateCli, WritesTheFileQuantizeReusesIt) {
    CalibrationData data(100);
    const auto calib = data.dir / "calib.json";
    const auto r = test::run_embq({"calibrate", fixture("bert_traced.pt").string(), "--data",
                                   data.texts.string(), "--tokenizer",
                                   fixture("vocab.txt").string(), "--samples", "64", "--observer",
                                   "mse", "--observer", "minmax", "-o", calib.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    test::expect_contains(r.out,
                          {"encoder.layer.0.attention.self.query", "input mse", "input moved"});
    // Layers in model order (query before the attention output), not the file's sorted keys.
    EXPECT_LT(r.out.find("encoder.layer.0.attention.self.query"),
              r.out.find("encoder.layer.0.attention.output.dense"))
        << r.out;
    const json doc = json::parse(test::read_file(calib));
    EXPECT_EQ(doc.at("observers"), json({"mse", "minmax"}));
    EXPECT_EQ(doc.at("data").at("texts").get<int>(), 64);

    test::write_file(data.dir / "static.json",
                     R"({"defaults": {"linear": {"scheme": "int8_static"}}})");
    const auto q =
        test::run_embq({"quantize", fixture("bert_traced.pt").string(),
                        (data.dir / "static.json").string(), "--calibration", calib.string(),
                        "--observer", "minmax", "-o", (data.dir / "q.pt").string()});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    test::expect_contains(q.err, {"minmax ranges from", "calib.json"});
    const auto meta = load_model(data.dir / "q.pt").embq_metadata;
    ASSERT_TRUE(meta);
    EXPECT_EQ((*meta)["calibration"]["observer"], "minmax");
}

TEST(CalibrateCli, QuantizeRunsAConfigsInlineCalibration) {
    CalibrationData data(50);
    test::write_file(data.dir / "inline.json", R"({
        "calibration": {"data": "calib.txt", "samples": 50, "observer": "percentile:99.9"},
        "defaults": {"linear": {"scheme": "int8_static"}}})");
    const auto q = test::run_embq(
        {"quantize", fixture("bert_traced.pt").string(), (data.dir / "inline.json").string(),
         "--tokenizer", fixture("vocab.txt").string(), "-o", (data.dir / "q.pt").string()});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    test::expect_contains(q.err, {"calibrating on the first 50 texts", "percentile:99.9"});
    EXPECT_TRUE(std::filesystem::exists(data.dir / "q.pt"));

    // --observer runs the inline calibration with another observer.
    const auto other = test::run_embq({"quantize", fixture("bert_traced.pt").string(),
                                       (data.dir / "inline.json").string(), "--tokenizer",
                                       fixture("vocab.txt").string(), "--observer", "minmax", "-o",
                                       (data.dir / "q2.pt").string()});
    ASSERT_EQ(other.exit_code, 0) << other.err;
    test::expect_contains(other.err, {"calibrating on the first 50 texts", "(minmax)"});

    // With a one-liner on top, the calibration text is still found beside the config.
    const auto kept = test::run_embq({"quantize", fixture("bert_traced.pt").string(),
                                      (data.dir / "inline.json").string(), "--tokenizer",
                                      fixture("vocab.txt").string(), "--keep-fp32",
                                      "encoder.layer.1.*", "-o", (data.dir / "q3.pt").string()});
    ASSERT_EQ(kept.exit_code, 0) << kept.err;
    test::expect_contains(kept.err, {"calibrating on the first 50 texts"});
}

TEST(CalibrateCli, BadInputExitsTwoAndWritesNothing) {
    CalibrationData data(10);
    const auto calib = data.dir / "calib.json";
    auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"calibrate",   fixture("bert_traced.pt").string(),
                                         "--tokenizer", fixture("vocab.txt").string(),
                                         "-o",          calib.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run_embq(args);
    };
    const auto bad_observer = run({"--data", data.texts.string(), "--observer", "entropi"});
    EXPECT_EQ(bad_observer.exit_code, 2);
    test::expect_contains(bad_observer.err, {"entropi", "entropy"});
    const auto missing = run({"--data", (data.dir / "missing.txt").string()});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_FALSE(std::filesystem::exists(calib));

    test::write_file(data.dir / "static.json",
                     R"({"defaults": {"linear": {"scheme": "int8_static"}}})");
    const auto no_calibration =
        test::run_embq({"quantize", fixture("bert_traced.pt").string(),
                        (data.dir / "static.json").string(), "-o", (data.dir / "q.pt").string()});
    EXPECT_EQ(no_calibration.exit_code, 2);
    test::expect_contains(no_calibration.err, {"needs calibration", "--calibration"});
    EXPECT_FALSE(std::filesystem::exists(data.dir / "q.pt"));
}

}  // namespace
}  // namespace embq
