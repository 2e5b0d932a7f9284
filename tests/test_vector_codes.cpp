// Quantized output vectors: int8 codes over calibrated per-dimension ranges and packed sign
// bits, as files NumPy reads (and packs the same way), read back by eval through their
// codes file; `embq embed --vectors` end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "embq/vector_codes.hpp"
#include "embq/vectors.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;

Vectors random_vectors(int64_t rows, int64_t dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    Vectors v{rows, dim, {}};
    for (int64_t i = 0; i < rows * dim; ++i) v.data.push_back(normal(rng));
    return v;
}

TEST(VectorCodes, Int8ReadsBackWithinHalfAStepAndClipsOutsideTheRange) {
    const Vectors sample = random_vectors(200, 16, 1);
    const Int8Ranges ranges = int8_ranges_from(sample);
    ASSERT_EQ(ranges.dim(), 16);
    const Vectors x = random_vectors(50, 16, 2);
    const auto codes = encode_vectors(VectorCodes::Int8, x.data.data(), x.rows, x.dim, &ranges);
    ASSERT_EQ(codes.size(), 50u * 16u);
    const CodesInfo info{VectorCodes::Int8, 16, ranges, "sample.npy"};
    const Vectors back = decode_vectors(info, codes, x.rows, 16, "test");
    for (int64_t i = 0; i < x.rows * x.dim; ++i) {
        const auto d = static_cast<size_t>(i % 16);
        const float lo = ranges.start[d], hi = lo + 255 * ranges.step[d];
        const float clipped = std::clamp(x.data[static_cast<size_t>(i)], lo, hi);
        EXPECT_LE(std::abs(back.data[static_cast<size_t>(i)] - clipped), ranges.step[d] * 0.5001f)
            << i;
    }
    EXPECT_EQ(code_bytes_per_vector(VectorCodes::Int8, 384), 384);
    EXPECT_EQ(code_bytes_per_vector(VectorCodes::Binary, 384), 48);
    EXPECT_EQ(code_bytes_per_vector(VectorCodes::Binary, 10), 2);
    EXPECT_EQ(test::error_from([] {
                  int8_ranges_from(Vectors{1, 4, {1, 2, 3, 4}});
              }).category(),
              ErrorCategory::Usage);
}

TEST(VectorCodes, BinaryIsSignBitsHighBitFirst) {
    const std::vector<float> x = {1, -1, 2, 0, -3, 5, 6, -7, 0.5f, -0.1f};  // 10 dimensions
    const auto codes = encode_vectors(VectorCodes::Binary, x.data(), 1, 10, nullptr);
    ASSERT_EQ(codes.size(), 2u);
    EXPECT_EQ(codes[0], 0b10100110);  // > 0 -> 1; zero is not positive
    EXPECT_EQ(codes[1], 0b10000000);  // dims 8, 9, then zero padding
    const Vectors back = decode_vectors({VectorCodes::Binary, 10, {}, ""}, codes, 1, 2, "test");
    EXPECT_EQ(back.data, (std::vector<float>{1, -1, 1, -1, -1, 1, 1, -1, 1, -1}));
}

TEST(VectorCodes, FilesAreNumpyArraysReadBackThroughTheirCodesFile) {
    test::TempDir dir;
    const Vectors x = random_vectors(40, 12, 3);
    const Int8Ranges ranges = int8_ranges_from(x);
    for (const VectorCodes codes : {VectorCodes::Int8, VectorCodes::Binary}) {
        const fs::path out = dir / (std::string(to_string(codes)) + ".npy");
        VectorWriter writer(out, 12, codes);
        writer.write_codes(encode_vectors(codes, x.data.data(), 40, 12, &ranges).data(), 40);
        write_codes_info(out, {codes, 12, ranges, "x.npy"});
        writer.commit();
        const Vectors back = read_vectors(out);
        EXPECT_EQ(back.rows, 40);
        EXPECT_EQ(back.dim, 12);
    }
    // NumPy reads them as int8 and uint8, and packs the same bits.
    test::write_file(dir / "x.bin", std::string(reinterpret_cast<const char*>(x.data.data()),
                                                x.data.size() * sizeof(float)));
    test::write_file(dir / "check.py",
                     "import numpy as np, sys\n"
                     "d = sys.argv[1]\n"
                     "i8 = np.load(d + '/int8.npy'); b = np.load(d + '/binary.npy')\n"
                     "x = np.fromfile(d + '/x.bin', dtype='<f4').reshape(40, 12)\n"
                     "assert i8.dtype == np.int8 and i8.shape == (40, 12)\n"
                     "assert b.dtype == np.uint8 and b.shape == (40, 2)\n"
                     "assert (b == np.packbits(x > 0, axis=1)).all()\n");
    const std::string cmd = std::string(EMBQ_TORCH_PYTHON) + " " + (dir / "check.py").string() +
                            " " + dir.path().string();
    EXPECT_EQ(std::system(cmd.c_str()), 0);

    fs::remove(codes_info_path_for(dir / "int8.npy"));
    test::expect_contains(test::error_from([&] { read_vectors(dir / "int8.npy"); }).what(),
                          {"int8.codes.json", "missing"});
}

TEST(VectorCodesCli, EmbedWritesCodesThatEvalReadsBack) {
    test::TempDir dir;
    const std::string model = test::fixture("bert_traced.pt").string();
    const std::string vocab = test::fixture("vocab.txt").string();
    test::write_file(dir / "calib.txt", test::fixture_sentences(300, 21));
    test::write_file(dir / "corpus.txt", test::fixture_sentences(1500, 22));
    const auto embed = [&](const std::string& data, const std::string& out,
                           const std::vector<std::string>& extra) {
        std::vector<std::string> args{"embed",       model, "--data", (dir / data).string(),
                                      "--tokenizer", vocab, "--out",  (dir / out).string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run_embq(args);
    };
    ASSERT_EQ(embed("calib.txt", "calib.npy", {}).exit_code, 0);
    ASSERT_EQ(embed("corpus.txt", "f32.npy", {}).exit_code, 0);
    const auto no_ranges = embed("corpus.txt", "i8.npy", {"--vectors", "int8"});
    EXPECT_EQ(no_ranges.exit_code, kExitBadInput);
    test::expect_contains(no_ranges.err, {"--calibration-vectors"});
    EXPECT_FALSE(fs::exists(dir / "i8.npy"));
    EXPECT_EQ(embed("corpus.txt", "i8.fvecs", {"--vectors", "binary"}).exit_code, kExitBadInput);

    const auto i8 =
        embed("corpus.txt", "i8.npy",
              {"--vectors", "int8", "--calibration-vectors", (dir / "calib.npy").string()});
    ASSERT_EQ(i8.exit_code, 0) << i8.err;
    test::expect_contains(i8.err, {"int8, 64 bytes a vector"});
    ASSERT_EQ(embed("corpus.txt", "b.npy", {"--vectors", "binary"}).exit_code, 0);
    EXPECT_EQ(fs::file_size(dir / "i8.npy"), 128 + 1500u * 64u);  // header + a byte a dimension
    EXPECT_EQ(fs::file_size(dir / "b.npy"), 128 + 1500u * 8u);

    const auto recall = [&](const std::string& candidate) {
        const auto r = test::run_embq({"eval", "--baseline", (dir / "f32.npy").string(),
                                       "--candidate", (dir / candidate).string(), "--report-json",
                                       (dir / "r.json").string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return nlohmann::json::parse(test::read_file(dir / "r.json"))["metrics"]["recall@10"]
            .get<double>();
    };
    const double int8 = recall("i8.npy"), binary = recall("b.npy");
    EXPECT_GT(int8, 0.9);  // calibrated on other text, it still keeps nearly every neighbour
    EXPECT_LT(binary, int8);
    EXPECT_GT(binary, 0.2);
}

}  // namespace
}  // namespace embq
