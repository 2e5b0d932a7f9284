// Each scheme's rewritten layer against a reference computed here, independently of
// the scheme's code, within the error the scheme promises.
#include <set>

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>

#include "embq/error.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"
#include "embq/quantize.hpp"
#include "embq/stored_layers.hpp"
#include "schemes/int8_linear.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

// A one-layer model: root.forward calls child `layer`, so the layer has a path.
torch::jit::Module one_layer_model(const std::string& layer_source, const at::Tensor& weight,
                                   const c10::optional<at::Tensor>& bias,
                                   const std::string& root_forward) {
    torch::jit::Module layer("Layer");
    layer.register_parameter("weight", weight, false);
    if (bias) layer.register_parameter("bias", *bias, false);
    layer.define(layer_source);
    torch::jit::Module root("Root");
    root.register_module("layer", layer);
    root.define(root_forward);
    return root;
}

// Quantizes `model` with one scheme on its only layer and loads the result back.
torch::jit::Module quantize_with(const torch::jit::Module& model, const std::string& scheme,
                                 const nlohmann::json& options, const test::TempDir& dir) {
    const auto input = dir / "in.pt";
    model.save(input.string());
    nlohmann::json doc = {{"rules", {{{"match", "layer"}, {"scheme", scheme}}}}};
    for (const auto& [k, v] : options.items()) doc["rules"][0][k] = v;
    test::quantize_file(input, doc, dir / "out.pt");
    return load_model(dir / "out.pt").module;
}

at::Tensor run(torch::jit::Module& m, std::vector<c10::IValue> inputs) {
    return m.forward(std::move(inputs)).toTensor();
}

const char* kLinear = "def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n";
const char* kCallLayer = "def forward(self, x):\n    return self.layer.forward(x)\n";

struct LinearCase {
    at::Tensor w, b, x;
    LinearCase() {
        at::manual_seed(7);
        w = at::randn({48, 128}) * 0.1;
        w.select(1, 3).mul_(10);  // an outlier input channel
        b = at::randn({48});
        x = at::randn({5, 128});
    }
};

TEST(Scheme, Fp16LinearEqualsMatmulWithHalfRoundedWeights) {
    LinearCase c;
    test::TempDir dir;
    auto q = quantize_with(one_layer_model(kLinear, c.w, c.b, kCallLayer), "fp16", {}, dir);
    const at::Tensor reference = at::linear(c.x, c.w.to(at::kHalf).to(at::kFloat), c.b);
    EXPECT_TRUE(at::allclose(run(q, {c.x}), reference, 1e-5, 1e-5));
}

TEST(Scheme, Bf16LinearWithinBfloat16Precision) {
    LinearCase c;
    test::TempDir dir;
    auto q = quantize_with(one_layer_model(kLinear, c.w, c.b, kCallLayer), "bf16", {}, dir);
    const at::Tensor exact = at::linear(c.x, c.w, c.b);
    // bf16 keeps 8 significant bits: a relative error of a few 2^-8 on each product.
    const double tol = 0.02 * exact.abs().max().item<double>();
    EXPECT_LT((run(q, {c.x}) - exact).abs().max().item<double>(), tol);
}

// Group-wise 4-bit reference written out with loops, not with embq's quant_math.
at::Tensor reference_int4(const at::Tensor& w, int64_t group, bool symmetric) {
    at::Tensor out = at::empty_like(w);
    auto src = w.accessor<float, 2>();
    auto dst = out.accessor<float, 2>();
    for (int64_t r = 0; r < w.size(0); ++r) {
        for (int64_t g0 = 0; g0 < w.size(1); g0 += group) {
            float lo = src[r][g0], hi = src[r][g0], maxabs = 0;
            for (int64_t i = g0; i < g0 + group; ++i) {
                lo = std::min(lo, src[r][i]);
                hi = std::max(hi, src[r][i]);
                maxabs = std::max(maxabs, std::abs(src[r][i]));
            }
            float scale = symmetric ? maxabs / 7.0f : (hi - lo) / 15.0f;
            if (scale <= 0) scale = 1;
            scale = at::tensor(scale).to(at::kHalf).item<float>();  // stored in fp16
            float offset = symmetric ? -8.0f * scale : at::tensor(lo).to(at::kHalf).item<float>();
            for (int64_t i = g0; i < g0 + group; ++i) {
                float code = std::nearbyint((src[r][i] - offset) / scale);
                code = std::min(15.0f, std::max(0.0f, code));
                dst[r][i] = code * scale + offset;
            }
        }
    }
    return out;
}

TEST(Scheme, Int4WeightMatchesGroupwiseReference) {
    LinearCase c;
    for (bool symmetric : {true, false}) {
        for (int group : {32, 64}) {
            test::TempDir dir;
            auto q = quantize_with(
                one_layer_model(kLinear, c.w, c.b, kCallLayer), "int4_weight",
                {{"granularity", "group:" + std::to_string(group)}, {"symmetric", symmetric}}, dir);
            const at::Tensor reference =
                at::linear(c.x, reference_int4(c.w, group, symmetric), c.b);
            EXPECT_TRUE(at::allclose(run(q, {c.x}), reference, 1e-4, 1e-4))
                << "group " << group << " symmetric " << symmetric;
        }
    }
}

TEST(Scheme, Int8DynamicCloseToPerChannelInt8Reference) {
    LinearCase c;
    for (const char* granularity : {"per_channel", "per_tensor"}) {
        test::TempDir dir;
        auto q = quantize_with(one_layer_model(kLinear, c.w, c.b, kCallLayer), "int8_dynamic",
                               {{"granularity", granularity}}, dir);
        const bool per_channel = std::string(granularity) == "per_channel";
        const at::Tensor maxabs = per_channel ? c.w.abs().amax(1, true) : c.w.abs().max();
        const at::Tensor scale = maxabs / 127;
        const at::Tensor w_ref = at::round(c.w / scale).clamp(-128, 127) * scale;
        const at::Tensor reference = at::linear(c.x, w_ref, c.b);
        // The remaining difference is the per-batch 8-bit activation rounding.
        const at::Tensor got = run(q, {c.x});
        const double rel = ((got - reference).norm() / reference.norm()).item<double>();
        EXPECT_LT(rel, 0.01) << granularity;
    }
}

// The grid activation range (so oneDNN reuses its kernels) must stay right when
// ranges repeat across calls of different shapes: this libtorch's kernel cache confuses two
// ranges with one scale and different zero points, which a naive grid produces (about 1 in
// 10 calls came back wrong, cosine 0.5 to the reference). Inputs here are uniform over
// ranges that repeat, both shapes of range the grid uses (symmetric, nearly non-negative)
// and in between, 2-D and 3-D.
TEST(Scheme, Int8DynamicGridRangeRightWhenRangesRepeat) {
    at::manual_seed(3);
    const at::Tensor w = at::randn({256, 256}) * 0.05, b = at::randn({256});
    test::TempDir dir;
    auto q = quantize_with(one_layer_model(kLinear, w, b, kCallLayer), "int8_dynamic",
                           {{"activation_range", "grid"}}, dir);
    const at::Tensor scale = w.abs().amax(1, true) / 127;
    const at::Tensor w_ref = at::round(w / scale).clamp(-128, 127) * scale;
    const std::vector<std::pair<double, double>> ranges = {
        {-2, 4}, {-4, 2}, {-2, 2}, {0, 4}, {-0.3, 4}, {-1, 3}, {-3, 1}, {-4, 4}};
    double worst = 0;
    for (int call = 0; call < 240; ++call) {
        const auto [lo, hi] = ranges[static_cast<size_t>(call * 7 % ranges.size())];
        const int64_t rows = 4 + call * 5 % 27;
        at::Tensor x = at::rand({rows, 256}) * (hi - lo) + lo;
        if (call % 3 == 0) x = x.reshape({1, rows, 256});
        const at::Tensor reference = at::linear(x, w_ref, b);
        const at::Tensor got = run(q, {x});
        ASSERT_EQ(got.sizes(), reference.sizes());
        worst = std::max(worst, ((got - reference).norm() / reference.norm()).item<double>());
    }
    EXPECT_LT(worst, 0.02);
}

// The weight that symmetric per-channel int8 codes rounded to nearest give back.
at::Tensor per_channel_int8(const at::Tensor& w) {
    const at::Tensor scale = w.abs().amax(1, true) / 127;
    return at::round(w / scale).clamp(-127, 127) * scale;
}

// int8_dynamic's default arithmetic written out: each row of x rounded to 8 bits over its
// own min..max, times the per-channel int8 weight.
at::Tensor int8_per_row_reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
    const at::Tensor rows = x.reshape({-1, x.size(-1)});
    const at::Tensor lo = rows.amin(1, true);
    const at::Tensor span = (rows.amax(1, true) - lo).clamp_min(1e-30);
    const at::Tensor rounded = at::round((rows - lo) / span * 255) / 255 * span + lo;
    const at::Tensor w_ref = per_channel_int8(w);
    return at::linear(rounded, w_ref, b).reshape(at::linear(x, w_ref, b).sizes());
}

double rel(const at::Tensor& got, const at::Tensor& want) {
    return ((got - want).norm() / want.norm()).item<double>();
}

// The default activation range: each row quantized over its own min..max. Against a
// reference that does exactly that here, for every row count from 1 to 40 (the padded
// row sizes), a 3-d input, a constant row and rows 1,000x apart in scale. A row's output
// does not depend on the rows that share its call (one range per call would give the
// small row the large row's step).
TEST(Scheme, Int8DynamicRowRangesMatchPerRowReference) {
    at::manual_seed(5);
    const at::Tensor w = at::randn({96, 128}) * 0.05, b = at::randn({96});
    test::TempDir dir;
    auto q = quantize_with(one_layer_model(kLinear, w, b, kCallLayer), "int8_dynamic", {}, dir);
    const at::Tensor w_ref = per_channel_int8(w);
    const auto per_row_reference = [&](const at::Tensor& x) {
        return int8_per_row_reference(x, w, b);
    };
    double worst = 0;
    for (int64_t rows = 1; rows <= 40; ++rows) {
        at::Tensor x = at::randn({rows, 128}) * (0.5 + rows % 7);
        if (rows % 4 == 0) x = x.reshape({2, rows / 2, 128});
        const at::Tensor got = run(q, {x});
        ASSERT_EQ(got.sizes(), at::linear(x, w_ref, b).sizes()) << rows << " rows";
        worst = std::max(worst, rel(got, per_row_reference(x)));
    }
    EXPECT_LT(worst, 1e-3);

    at::Tensor mixed = at::randn({3, 128});
    mixed[0].mul_(1000);
    mixed[2].fill_(0.25);  // constant: its output is exactly linear(0.25, w_ref) + b
    const at::Tensor got = run(q, {mixed});
    EXPECT_LT(rel(got, per_row_reference(mixed)), 1e-3);
    EXPECT_LT(rel(got[1], at::linear(mixed[1], w_ref, b)), 0.01)
        << "the small row kept its own range";
    EXPECT_LT(rel(got[2], at::linear(mixed[2], w_ref, b)), 1e-5);
    for (int64_t row = 0; row < 3; ++row) {
        const at::Tensor alone = run(q, {mixed.slice(0, row, row + 1)});
        EXPECT_TRUE(at::allclose(alone[0], got[row], 1e-5, 1e-4)) << "row " << row;
    }
}

// A root whose forward is `root_forward`, with one linear child per name (weights of 128
// inputs and `outputs[i]` outputs), quantized with every layer int8_dynamic and loaded.
struct LinearsModel {
    std::vector<at::Tensor> w, b;
    LoadedModel quantized;
    LinearsModel(const std::vector<std::string>& names, const std::vector<int64_t>& outputs,
                 const std::string& root_forward, const test::TempDir& dir) {
        torch::jit::Module root("Root");
        for (size_t i = 0; i < names.size(); ++i) {
            w.push_back(at::randn({outputs[i], 128}) * 0.05);
            b.push_back(at::randn({outputs[i]}));
            torch::jit::Module layer("Layer");
            layer.register_parameter("weight", w.back(), false);
            layer.register_parameter("bias", b.back(), false);
            layer.define(kLinear);
            root.register_module(names[i], layer);
        }
        root.define(root_forward);
        root.save((dir / "in.pt").string());
        test::quantize_file(dir / "in.pt",
                            {{"defaults", {{"linear", {{"scheme", "int8_dynamic"}}}}}},
                            dir / "out.pt");
        quantized = load_model(dir / "out.pt");
    }
    int64_t int8_matmuls() {
        int64_t n = 0;
        for (const torch::jit::Node* node : quantized.module.get_method("forward").graph()->nodes())
            n += node->kind().toQualString() == std::string("quantized::linear_dynamic");
        return n;
    }
};

// A transformer's query, key and value read the same input: int8_dynamic runs them as one
// int8 matmul on their stacked weights. Each layer's output is what it gives alone (the
// per-row reference), contiguous (view(-1) works on it), and `inspect` counts each layer
// its own share of the stacked weight.
TEST(Scheme, Int8DynamicLayersOnOneInputRunAsOneMatmul) {
    at::manual_seed(11);
    test::TempDir dir;
    LinearsModel m({"query", "key", "value"}, {64, 32, 64},
                   "def forward(self, x):\n"
                   "    q = self.query.forward(x)\n"
                   "    k = self.key.forward(x)\n"
                   "    v = self.value.forward(x)\n"
                   "    return torch.cat([q.view(-1), k.view(-1), v.view(-1)])\n",
                   dir);
    EXPECT_EQ(m.int8_matmuls(), 1);
    for (int64_t rows : {1, 7, 33}) {
        const at::Tensor x = at::randn({rows, 128});
        const at::Tensor got = run(m.quantized.module, {x});
        std::vector<at::Tensor> want;
        for (size_t i = 0; i < 3; ++i)
            want.push_back(int8_per_row_reference(x, m.w[i], m.b[i]).view(-1));
        EXPECT_LT(rel(got, at::cat(want)), 1e-3) << rows << " rows";
    }
    const StoredModel stored = take_stored_inventory(m.quantized);
    ASSERT_EQ(stored.layers.size(), 3u);
    for (const StoredLayer& layer : stored.layers)
        EXPECT_NEAR(static_cast<double>(layer.stored_bytes),
                    static_cast<double>(layer.planned_bytes),
                    0.03 * static_cast<double>(layer.planned_bytes))
            << layer.path;
}

// Layers whose shared input is written between them are not run together: the later one
// reads the written value.
TEST(Scheme, Int8DynamicLayersOnAnInputWrittenBetweenThemRunApart) {
    at::manual_seed(12);
    test::TempDir dir;
    LinearsModel m({"query", "key"}, {64, 64},
                   "def forward(self, x):\n"
                   "    y = x * 1.0\n"
                   "    q = self.query.forward(y)\n"
                   "    y.add_(1.0)\n"
                   "    k = self.key.forward(y)\n"
                   "    return torch.cat([q, k], 1)\n",
                   dir);
    EXPECT_EQ(m.int8_matmuls(), 2);
    const at::Tensor x = at::randn({5, 128});
    const at::Tensor want = at::cat(
        {int8_per_row_reference(x, m.w[0], m.b[0]), int8_per_row_reference(x + 1, m.w[1], m.b[1])},
        1);
    EXPECT_LT(rel(run(m.quantized.module, {x}), want), 1e-3);
}

// Every int8 matmul runs on padded row counts, so oneDNN keeps few kernels: every count
// up to 16 is its own size, then 8 sizes an octave, never more than 1/8 extra rows. The
// padding rows must not widen the range the matmul quantizes over: int8_static's range
// [0.5, 3] does not hold 0, so it pads with its low end.
TEST(Scheme, Int8RowPaddingIsFewSizesAndKeepsTheRange) {
    // torch::jit::Function's call operator is not const; the compiled functions are shared.
    const auto call = [](const char* source, const std::string& name,
                         std::vector<c10::IValue> args) {
        return const_cast<torch::jit::Function&>(int8_rows_function(source, name))(std::move(args));
    };
    const auto padded_rows = [&](int64_t n) { return call("", "padded_rows", {n}).toInt(); };
    std::set<int64_t> sizes;
    for (int64_t n = 1; n <= 4096; ++n) {
        const int64_t p = padded_rows(n);
        ASSERT_GE(p, n);
        ASSERT_LE(p, n <= 16 ? n : n + n / 8) << n;
        sizes.insert(p);
    }
    EXPECT_LE(sizes.size(), 16u + 8u * 8u);

    const at::Tensor x = at::rand({17, 8}) + 1;  // inside [0.5, 3]
    const at::Tensor rows =
        call(kFixedRangeRowsSource, "with_fixed_range_rows", {x, 0.5, 3.0}).toTensor();
    EXPECT_EQ(rows.size(0), padded_rows(19));
    EXPECT_GT(rows.size(0), 19);
    EXPECT_FLOAT_EQ(rows.min().item<float>(), 0.5f);
    EXPECT_FLOAT_EQ(rows.max().item<float>(), 3.0f);
}

TEST(Scheme, Int8DynamicExactRangeAndItsErrors) {
    LinearCase c;
    test::TempDir dir;
    auto q = quantize_with(one_layer_model(kLinear, c.w, c.b, kCallLayer), "int8_dynamic",
                           {{"activation_range", "exact"}}, dir);
    const at::Tensor scale = c.w.abs().amax(1, true) / 127;
    const at::Tensor reference = at::linear(c.x, at::round(c.w / scale) * scale, c.b);
    const at::Tensor got = run(q, {c.x});
    EXPECT_LT(((got - reference).norm() / reference.norm()).item<double>(), 0.01);

    const auto model = one_layer_model(kLinear, c.w, c.b, kCallLayer);
    try {
        quantize_with(model, "fp16", {{"activation_range", "grid"}}, dir);
        FAIL() << "activation_range was accepted for fp16";
    } catch (const Error& e) {
        test::expect_contains(e.what(), {"activation_range applies to", "int8_dynamic", "fp16"});
    }
    try {
        quantize_with(model, "int8_dynamic", {{"activation_range", "coarse"}}, dir);
        FAIL() << "a bad activation_range was accepted";
    } catch (const Error& e) {
        test::expect_contains(e.what(), {"activation_range", "'coarse'", "row, grid or exact"});
    }
}

struct TableCase {
    at::Tensor table, ids;
    TableCase() {
        at::manual_seed(11);
        table = at::randn({50, 16});
        table.select(0, 4).mul_(30);  // an outlier row: row-wise scales keep others precise
        ids = at::randint(0, 50, {3, 7});
    }
};

// Row-wise affine reference over min..max with `levels` codes.
at::Tensor reference_rowwise(const at::Tensor& table, int levels) {
    const at::Tensor lo = table.amin(1, true), hi = table.amax(1, true);
    const at::Tensor scale = (hi - lo) / (levels - 1);
    return at::round((table - lo) / scale).clamp(0, levels - 1) * scale + lo;
}

const char* kEmbedding = "def forward(self, ids):\n    return torch.embedding(self.weight, ids)\n";
const char* kCallEmbedding = "def forward(self, ids):\n    return self.layer.forward(ids)\n";

TEST(Scheme, RowwiseEmbeddingsMatchRowwiseReference) {
    TableCase c;
    for (const auto& [scheme, levels] :
         {std::pair<std::string, int>{"int8_rowwise", 256}, {"int4_rowwise", 16}}) {
        test::TempDir dir;
        auto q = quantize_with(one_layer_model(kEmbedding, c.table, c10::nullopt, kCallEmbedding),
                               scheme, {}, dir);
        const at::Tensor reference = at::embedding(reference_rowwise(c.table, levels), c.ids);
        EXPECT_TRUE(at::allclose(run(q, {c.ids}), reference, 1e-5, 1e-5)) << scheme;
    }
}

// Group-wise affine reference: every group of `group` elements of a row its own
// min..max with `levels` codes, the scale and offset rounded to FP16 first.
at::Tensor reference_grouped(const at::Tensor& table, int64_t group, int levels) {
    const int64_t rows = table.size(0), cols = table.size(1);
    const at::Tensor t = table.reshape({rows, cols / group, group});
    const at::Tensor lo = t.amin(-1, true).to(at::kHalf).to(at::kFloat);
    const at::Tensor scale =
        ((t.amax(-1, true) - t.amin(-1, true)) / (levels - 1)).to(at::kHalf).to(at::kFloat);
    return (at::round((t - lo) / scale).clamp(0, levels - 1) * scale + lo).reshape({rows, cols});
}

TEST(Scheme, GroupedRowwiseEmbeddingsMatchGroupedReference) {
    TableCase c;
    for (const auto& [scheme, levels] :
         {std::pair<std::string, int>{"int8_rowwise", 256}, {"int4_rowwise", 16}}) {
        test::TempDir dir;
        auto q = quantize_with(one_layer_model(kEmbedding, c.table, c10::nullopt, kCallEmbedding),
                               scheme, {{"granularity", "group:8"}}, dir);
        const at::Tensor reference = at::embedding(reference_grouped(c.table, 8, levels), c.ids);
        EXPECT_TRUE(at::allclose(run(q, {c.ids}), reference, 1e-4, 1e-4)) << scheme;
    }
}

// NF4 reference: the nearest of the 16 published levels to w / absmax of its group.
at::Tensor reference_nf4(const at::Tensor& w, int64_t group) {
    const std::vector<float> levels = {
        -1.0f,       -0.6961928f, -0.5250731f, -0.3949175f, -0.2844414f, -0.1847734f,
        -0.0910500f, 0.0f,        0.0795803f,  0.1609302f,  0.2461123f,  0.3379152f,
        0.4407098f,  0.5626170f,  0.7229568f,  1.0f};
    at::Tensor out = at::empty_like(w);
    auto src = w.accessor<float, 2>();
    auto dst = out.accessor<float, 2>();
    for (int64_t r = 0; r < w.size(0); ++r) {
        for (int64_t g0 = 0; g0 < w.size(1); g0 += group) {
            float absmax = 0;
            for (int64_t i = g0; i < g0 + group; ++i) absmax = std::max(absmax, std::abs(src[r][i]));
            absmax = at::tensor(absmax).to(at::kHalf).item<float>();  // stored in fp16
            for (int64_t i = g0; i < g0 + group; ++i) {
                float best = levels[0];
                for (float l : levels)
                    if (std::abs(src[r][i] / absmax - l) < std::abs(src[r][i] / absmax - best)) best = l;
                dst[r][i] = best * absmax;
            }
        }
    }
    return out;
}

TEST(Scheme, Nf4LinearAndTableMatchTheNf4Reference) {
    LinearCase lc;
    test::TempDir dir;
    auto linear = quantize_with(one_layer_model(kLinear, lc.w, lc.b, kCallLayer), "nf4",
                                {{"granularity", "group:32"}}, dir);
    EXPECT_TRUE(at::allclose(run(linear, {lc.x}), at::linear(lc.x, reference_nf4(lc.w, 32), lc.b),
                             1e-4, 1e-4));
    TableCase tc;
    test::TempDir dir2;
    auto table = quantize_with(one_layer_model(kEmbedding, tc.table, c10::nullopt, kCallEmbedding),
                               "nf4", {{"granularity", "group:8"}}, dir2);
    EXPECT_TRUE(at::allclose(run(table, {tc.ids}), at::embedding(reference_nf4(tc.table, 8), tc.ids),
                             1e-5, 1e-5));
}

// The file keeps only the 4-bit codes, scales and offsets; loading decodes them once, so
// a call runs the FP32 matmul without decoding (which made 4-bit linears slower than FP32).
TEST(Scheme, FourBitLinearFileHoldsTheCodesAndLoadingDecodesThem) {
    LinearCase c;
    const std::vector<std::pair<std::string, at::Tensor>> cases = {
        {"int4_weight", reference_int4(c.w, 32, true)}, {"nf4", reference_nf4(c.w, 32)}};
    for (const auto& [scheme, reference] : cases) {
        test::TempDir dir;
        auto q = quantize_with(one_layer_model(kLinear, c.w, c.b, kCallLayer), scheme,
                               {{"granularity", "group:32"}}, dir);
        caffe2::serialize::PyTorchStreamReader archive((dir / "out.pt").string());
        size_t tensor_bytes = 0;
        for (const std::string& record : archive.getAllRecords())
            if (record.rfind("data/", 0) == 0)
                tensor_bytes += std::get<1>(archive.getRecord(record));
        const size_t fp32_weight = static_cast<size_t>(c.w.numel()) * sizeof(float);
        EXPECT_GE(tensor_bytes, fp32_weight / 8) << scheme << ": the 4-bit codes are in the file";
        EXPECT_LT(tensor_bytes, fp32_weight / 4) << scheme << ": an FP32 copy was saved";

        const at::Tensor decoded =
            q.attr(stored_attribute_name("layer", "weights")).toModule().attr("decoded").toTensor();
        EXPECT_TRUE(at::allclose(decoded, reference, 1e-6, 1e-7)) << scheme;
    }
}

TEST(Scheme, Fp16EmbeddingReturnsHalfRoundedRows) {
    TableCase c;
    test::TempDir dir;
    auto q = quantize_with(one_layer_model(kEmbedding, c.table, c10::nullopt, kCallEmbedding),
                           "fp16", {}, dir);
    const at::Tensor reference = at::embedding(c.table.to(at::kHalf).to(at::kFloat), c.ids);
    EXPECT_TRUE(at::equal(run(q, {c.ids}), reference));
}

const char* kBag =
    "def forward(self, ids, offsets, weights):\n"
    "    return torch.embedding_bag(self.weight, ids, offsets, False, 0, False, weights, "
    "False)[0]\n";
const char* kCallBag =
    "def forward(self, ids, offsets, weights):\n    return self.layer.forward(ids, offsets, "
    "weights)\n";

TEST(Scheme, EmbeddingBagSchemesKeepBagSemantics) {
    TableCase c;
    const at::Tensor ids = at::tensor({1, 4, 4, 9, 2, 7, 1}, at::kLong);  // repeats on purpose
    const at::Tensor offsets = at::tensor({0, 3, 5}, at::kLong);
    const at::Tensor weights = at::rand({7});
    for (const auto& [scheme, levels] :
         {std::pair<std::string, int>{"int8_rowwise", 256}, {"int4_rowwise", 16}, {"fp16", 0}}) {
        test::TempDir dir;
        auto q =
            quantize_with(one_layer_model(kBag, c.table, c10::nullopt, kCallBag), scheme, {}, dir);
        const at::Tensor table =
            levels ? reference_rowwise(c.table, levels) : c.table.to(at::kHalf).to(at::kFloat);
        const at::Tensor reference =
            std::get<0>(at::embedding_bag(table, ids, offsets, false, 0, false, weights, false));
        EXPECT_TRUE(at::allclose(run(q, {ids, offsets, weights}), reference, 1e-5, 1e-4)) << scheme;
    }
}

}  // namespace
}  // namespace embq
