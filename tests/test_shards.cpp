// Sharded embedding: --shard parsing (by hand and from the schedulers' variables), shards
// that are the one-process rows byte for byte once read back as a set, and a broken set
// refused with the shard named.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "embq/dataset.hpp"
#include "embq/embed.hpp"
#include "embq/shards.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;

EnvironmentLookup env_of(const std::map<std::string, std::string>& vars) {
    return [vars](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

TEST(Shard, ParsesIndexOfCountAndTheSchedulersVariables) {
    const ShardSpec s = parse_shard("1/4");
    EXPECT_EQ(s.index, 1);
    EXPECT_EQ(s.count, 4);
    EXPECT_TRUE(s.owns_block(5));
    EXPECT_FALSE(s.owns_block(4));
    for (const char* bad : {"4/4", "x", "1/0", "-1/4", "1/4/2", "1"})
        EXPECT_EQ(test::error_from([&] { parse_shard(bad); }).category(), ErrorCategory::Usage)
            << bad;

    // sbatch --array=4-12:4 starts tasks 4, 8, 12: the second is shard 1 of 3.
    const ShardSpec slurm = parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "8"},
                                                        {"SLURM_ARRAY_TASK_MIN", "4"},
                                                        {"SLURM_ARRAY_TASK_STEP", "4"},
                                                        {"SLURM_ARRAY_TASK_COUNT", "3"}}));
    EXPECT_EQ(slurm.index, 1);
    EXPECT_EQ(slurm.count, 3);
    test::expect_contains(slurm.source, {"Slurm array", "SLURM_ARRAY_TASK_ID=8"});

    const ShardSpec k8s =
        parse_shard("auto", env_of({{"JOB_COMPLETION_INDEX", "2"}, {"EMBQ_SHARD_COUNT", "3"}}));
    EXPECT_EQ(k8s.index, 2);
    test::expect_contains(k8s.source, {"Kubernetes Indexed Job"});
    test::expect_contains(test::error_from([] {
                              parse_shard("auto", env_of({{"JOB_COMPLETION_INDEX", "2"}}));
                          }).what(),
                          {"EMBQ_SHARD_COUNT"});
    test::expect_contains(test::error_from([] { parse_shard("auto", env_of({})); }).what(),
                          {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "--shard I/N"});
    EXPECT_EQ(manifest_path_for("out/part-3.npy"), fs::path("out/part-3.manifest.json"));
}

// Embeds `texts` as shard `shard` (blocks of `window` records) into dir/part-I.npy.
void embed_shard(EmbeddingModel& model, const fs::path& texts, const ShardSpec& shard,
                 size_t window, const fs::path& dir) {
    EmbedOptions options;
    options.window = window;
    options.batch_size = 3;
    options.shard = shard;
    const fs::path out = dir / ("part-" + std::to_string(shard.index) + ".npy");
    std::unique_ptr<VectorWriter> writer;
    DatasetReader reader(texts, DatasetFormat::Text);
    const EmbedStats stats = embed_dataset(
        model.embedder, model.tokenizer.get(), reader,
        [&](const float* rows, int64_t count, int64_t dim) {
            if (!writer) writer = std::make_unique<VectorWriter>(out, dim);
            writer->write_rows(rows, count);
        },
        options);
    if (writer) writer->commit();
    write_shard_manifest({shard, static_cast<int64_t>(window), texts,
                          test::fixture("bert_traced.pt"), out, nlohmann::json::object(),
                          writer ? writer->rows() : 0, writer ? stats.dim : 0,
                          static_cast<int64_t>(stats.records_seen)});
}

struct ShardedRun {
    test::TempDir dir;
    Vectors whole;
    fs::path set;
};

// 23 texts in blocks of 4 (6 blocks, the last of 3) over 4 shards, and the one-process run.
void shard_fixture(ShardedRun& run, int64_t shards = 4) {
    test::write_file(run.dir / "texts.txt", test::fixture_sentences(23, 5));
    EmbeddingModel model =
        open_embedding_model(test::fixture("bert_traced.pt"), test::fixture_text());
    fs::create_directories(run.dir / "one");
    embed_shard(model, run.dir / "texts.txt", {0, 1, "test"}, 4, run.dir / "one");
    run.whole = read_vectors(run.dir / "one" / "part-0.npy");
    run.set = run.dir / "set";
    fs::create_directories(run.set);
    for (int64_t i = 0; i < shards; ++i)
        embed_shard(model, run.dir / "texts.txt", {i, shards, "test"}, 4, run.set);
}

TEST(Shard, ASetReadsBackAsTheOneProcessRowsByteForByte) {
    ShardedRun run;
    shard_fixture(run);
    ASSERT_EQ(run.whole.rows, 23);
    EXPECT_EQ(read_vectors(run.set / "part-1.npy").rows, 7);  // blocks 1 and 5 (4 + 3 rows)
    const ShardSet set = read_shard_set(run.set);
    EXPECT_EQ(set.shards, 4);
    ASSERT_EQ(set.vectors.rows, run.whole.rows);
    ASSERT_EQ(set.vectors.dim, run.whole.dim);
    EXPECT_EQ(std::memcmp(set.vectors.data.data(), run.whole.data.data(),
                          run.whole.data.size() * sizeof(float)),
              0);

    // More shards than blocks: the idle ones write a manifest and no vectors.
    ShardedRun idle;
    shard_fixture(idle, 8);
    EXPECT_FALSE(fs::exists(idle.set / "part-7.npy"));
    EXPECT_TRUE(fs::exists(idle.set / "part-7.manifest.json"));
    EXPECT_EQ(read_shard_set(idle.set).vectors.data, run.whole.data);
}

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(test::read_file(p)); }
void write_json(const fs::path& p, const nlohmann::json& j) { test::write_file(p, j.dump(2)); }

TEST(Shard, ABrokenSetIsRefusedNamingTheShard) {
    ShardedRun run;
    shard_fixture(run);
    const fs::path m1 = run.set / "part-1.manifest.json";
    const nlohmann::json good = read_json(m1);
    const auto refused = [&] {
        return std::string(test::error_from([&] { read_shard_set(run.set); }).what());
    };

    fs::rename(m1, run.dir / "away.json");
    test::expect_contains(refused(), {"shard(s) 1 of 4 missing", "rerun"});
    fs::rename(run.dir / "away.json", m1);

    fs::copy_file(run.set / "part-2.manifest.json", run.set / "part-2-again.manifest.json");
    test::expect_contains(refused(), {"shard 2 appears twice"});
    fs::remove(run.set / "part-2-again.manifest.json");

    nlohmann::json other = good;
    other["input"]["sha256"] = "00";
    write_json(m1, other);
    test::expect_contains(refused(), {"part-1.manifest.json", "another input"});

    other = good;
    other["model"]["sha256"] = "00";
    write_json(m1, other);
    test::expect_contains(refused(), {"part-1.manifest.json", "another model"});

    other = good;
    other["rows"] = 6;
    write_json(m1, other);
    test::expect_contains(refused(), {"part-1.npy", "7 x", "says 6"});

    write_json(m1, good);
    EXPECT_EQ(read_shard_set(run.set).vectors.rows, 23);
}

TEST(ShardCli, SchedulerShardsEvaluateExactlyAsOneFile) {
    test::TempDir dir;
    // Three blocks of the default 4096-record window over three shards.
    test::write_file(dir / "texts.txt", test::fixture_sentences(9000, 17));
    const std::string fp32 = test::fixture("bert_traced.pt").string();
    test::write_file(dir / "int8.json", R"({"defaults": {"linear": {"scheme": "int8_dynamic"}}})");
    const std::string q = (dir / "q.pt").string();
    ASSERT_EQ(test::run_embq({"quantize", fp32, (dir / "int8.json").string(), "-o", q}).exit_code,
              0);
    const std::string vocab = test::fixture("vocab.txt").string();
    for (const auto& [name, model] : {std::make_pair("fp32", fp32), std::make_pair("q", q)}) {
        fs::create_directories(dir / name);
        const auto one =
            test::run_embq({"embed", model, "--data", (dir / "texts.txt").string(), "--tokenizer",
                            vocab, "--out", (dir / (std::string(name) + ".npy")).string()});
        ASSERT_EQ(one.exit_code, 0) << one.err;
        for (int i = 0; i < 3; ++i) {
            // Shard 1 as a Slurm array task would run it, the others by hand.
            const std::string part = (dir / name / ("part-" + std::to_string(i) + ".npy")).string();
            std::vector<std::string> args{
                "embed",       model, "--data", (dir / "texts.txt").string(),
                "--tokenizer", vocab, "--out",  part};
            test::RunResult r;
            if (i == 1) {
                args.insert(args.end(), {"--shard", "auto"});
                r = test::EmbqProcess(args, {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3",
                                             "SLURM_ARRAY_TASK_MIN=0"})
                        .wait();
                test::expect_contains(r.err, {"shard 1 of 3 (Slurm array"});
            } else {
                args.insert(args.end(), {"--shard", std::to_string(i) + "/3"});
                r = test::run_embq(args);
            }
            ASSERT_EQ(r.exit_code, 0) << r.err;
        }
    }
    const auto eval = [&](const std::string& baseline, const std::string& candidate) {
        const auto r =
            test::run_embq({"eval", "--baseline", baseline, "--candidate", candidate,
                            "--queries-sample", "500", "--report-json", (dir / "r.json").string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return read_json(dir / "r.json")["metrics"];
    };
    const auto one_file = eval((dir / "fp32.npy").string(), (dir / "q.npy").string());
    const auto sharded = eval((dir / "fp32").string(), (dir / "q").string());
    EXPECT_EQ(sharded, one_file);
    EXPECT_GT(one_file["recall@10"].get<double>(), 0.5);

    // A shard of the wrong input is named.
    test::write_file(dir / "other.txt", test::fixture_sentences(9000, 18));
    const auto wrong =
        test::run_embq({"embed", q, "--data", (dir / "other.txt").string(), "--tokenizer", vocab,
                        "--out", (dir / "q" / "part-2.npy").string(), "--shard", "2/3"});
    ASSERT_EQ(wrong.exit_code, 0) << wrong.err;
    const auto refused = test::run_embq(
        {"eval", "--baseline", (dir / "fp32").string(), "--candidate", (dir / "q").string()});
    EXPECT_EQ(refused.exit_code, kExitBadInput);
    test::expect_contains(refused.err, {"part-2.manifest.json", "another input"});
}

// The Kubernetes template as Kubernetes would run it: an Indexed Job whose shard count is
// its completions, each pod's shell with JOB_COMPLETION_INDEX set (MODEL, DATA, OUT and
// EMBQ_ARGS pointed at the fixtures, `embq` on PATH the built one). The pods' shards must
// read back as the one-process vectors.
TEST(ShardCli, KubernetesIndexedJobTemplateShardsAsTheContractSays) {
    test::TempDir dir;
    const fs::path yaml = fs::path(EMBQ_SOURCE_DIR) / "tools" / "k8s" / "embed-indexed-job.yaml";
    test::write_file(dir / "read.py", R"PY(
import json, sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
pod = job['spec']['template']['spec']
c = pod['containers'][0]
json.dump({'api': job['apiVersion'], 'kind': job['kind'], 'mode': job['spec']['completionMode'],
           'completions': job['spec']['completions'], 'parallelism': job['spec']['parallelism'],
           'restart': pod['restartPolicy'], 'command': c['command'], 'script': c['args'][0],
           'env': {e['name']: e['value'] for e in c['env']},
           'cpu_limit': c['resources']['limits']['cpu']}, open(sys.argv[2], 'w'))
)PY");
    const std::string read = std::string(EMBQ_TORCH_PYTHON) + " " + (dir / "read.py").string() +
                             " " + yaml.string() + " " + (dir / "job.json").string();
    ASSERT_EQ(std::system(read.c_str()), 0) << read;
    const nlohmann::json job = read_json(dir / "job.json");
    EXPECT_EQ(job["api"], "batch/v1");
    EXPECT_EQ(job["kind"], "Job");
    EXPECT_EQ(job["mode"], "Indexed");
    EXPECT_EQ(job["restart"], "Never");
    const int completions = job["completions"];
    EXPECT_EQ(job["env"]["EMBQ_SHARD_COUNT"], std::to_string(completions));
    EXPECT_EQ(job["env"]["THREADS"], job["cpu_limit"]);  // one thread per CPU it may use
    EXPECT_EQ(job["command"], nlohmann::json::array({"/bin/sh", "-c"}));

    fs::create_directories(dir / "bin");
    fs::create_symlink(EMBQ_BINARY, dir / "bin" / "embq");
    test::write_file(dir / "texts.txt", test::fixture_sentences(30, 3));
    std::vector<std::string> env;
    for (const auto& [name, value] : job["env"].items())
        env.push_back(name + "=" + value.get<std::string>());
    env.insert(env.end(),
               {"PATH=" + (dir / "bin").string() + ":/usr/bin:/bin",
                "MODEL=" + test::fixture("bert_traced.pt").string(),
                "DATA=" + (dir / "texts.txt").string(), "OUT=" + (dir / "out").string(),
                "EMBQ_ARGS=--tokenizer " + test::fixture("vocab.txt").string(), "THREADS=1"});
    const std::string script = job["script"];
    for (int i = 0; i < completions; ++i) {
        test::write_file(dir / "pod.sh", "export JOB_COMPLETION_INDEX=" + std::to_string(i) + "\n" +
                                             "for kv in \"$@\"; do export \"$kv\"; done\n" +
                                             script + "\n");
        std::string cmd = "/bin/sh " + (dir / "pod.sh").string();
        for (const auto& kv : env) cmd += " '" + kv + "'";
        ASSERT_EQ(std::system((cmd + " 2> " + (dir / "pod.log").string()).c_str()), 0)
            << test::read_file(dir / "pod.log");
    }
    // 30 records are one block: pod 0 embeds it, the others write a manifest and no rows.
    const ShardSet set = read_shard_set(dir / "out");
    EXPECT_EQ(set.shards, completions);
    const auto one =
        test::run_embq({"--threads", "1", "embed", test::fixture("bert_traced.pt").string(),
                        "--data", (dir / "texts.txt").string(), "--tokenizer",
                        test::fixture("vocab.txt").string(), "--out", (dir / "one.npy").string()});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_EQ(set.vectors.data, read_vectors(dir / "one.npy").data);
}

}  // namespace
}  // namespace embq
