#include "embq/shards.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>

#include "core/sha256.hpp"
#include "embq/atomic_file.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;

constexpr const char* kManifestSuffix = ".manifest.json";
constexpr const char* kManifestKind = "embq shard manifest";

bool is_manifest_name(const std::string& name) {
    const std::string suffix = kManifestSuffix;
    return name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), std::string::npos, suffix) == 0;
}

// A whole number from the environment or --shard, or nullopt.
std::optional<int64_t> whole_number(const char* text) {
    if (!text || !*text) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0) return std::nullopt;
    return value;
}

ShardSpec checked(int64_t index, int64_t count, std::string source) {
    if (count < 1) throw usage_error(source + ": the shard count must be at least 1");
    if (index >= count)
        throw usage_error(source + ": shard " + std::to_string(index) + " of " +
                          std::to_string(count) + " does not exist (indexes are 0.." +
                          std::to_string(count - 1) + ")");
    return {index, count, std::move(source)};
}

ShardSpec from_environment(const EnvironmentLookup& env) {
    if (const char* task = env("SLURM_ARRAY_TASK_ID")) {
        const auto id = whole_number(task);
        const auto count = whole_number(env("SLURM_ARRAY_TASK_COUNT"));
        const auto min = whole_number(env("SLURM_ARRAY_TASK_MIN"));
        const auto step = whole_number(env("SLURM_ARRAY_TASK_STEP"));
        if (!id || !count)
            throw usage_error(
                "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not a "
                "count (Slurm sets both for array tasks); pass --shard I/N");
        const int64_t first = min.value_or(0), stride = std::max<int64_t>(1, step.value_or(1));
        if (*id < first || (*id - first) % stride != 0)
            throw usage_error("--shard auto: SLURM_ARRAY_TASK_ID=" + std::string(task) +
                              " is not on the array's grid (min " + std::to_string(first) +
                              ", step " + std::to_string(stride) + ")");
        return checked((*id - first) / stride, *count,
                       "Slurm array (SLURM_ARRAY_TASK_ID=" + std::string(task) + ")");
    }
    if (const char* index = env("JOB_COMPLETION_INDEX")) {
        const auto i = whole_number(index);
        const auto count = whole_number(env("EMBQ_SHARD_COUNT"));
        if (!i || !count)
            throw usage_error(
                "--shard auto: a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX but not how "
                "many there are; set EMBQ_SHARD_COUNT to the Job's completions (as "
                "tools/k8s/embed-indexed-job.yaml does)");
        return checked(*i, *count,
                       "Kubernetes Indexed Job (JOB_COMPLETION_INDEX=" + std::string(index) + ")");
    }
    throw usage_error(
        "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array task) nor JOB_COMPLETION_INDEX "
        "(a Kubernetes Indexed Job) is set; run it as one, or pass --shard I/N");
}

nlohmann::json file_identity(const fs::path& path) {
    return {{"path", path.string()}, {"bytes", fs::file_size(path)}, {"sha256", sha256_file(path)}};
}

nlohmann::json read_manifest(const fs::path& path) {
    std::ifstream in(path);
    const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("kind", std::string()) != kManifestKind)
        throw input_error(path.string() +
                          ": not an embq shard manifest (written by 'embq embed "
                          "--shard')");
    for (const char* key : {"shard", "input", "model", "card", "rows", "dim", "records_seen",
                            "vectors", "block_records"})
        if (!doc.contains(key))
            throw input_error(path.string() + ": shard manifest without \"" + key + "\"");
    const auto whole = [&](const nlohmann::json& v, const char* what) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0)
            throw input_error(path.string() + ": shard manifest \"" + what +
                              "\" is not a whole number");
    };
    if (!doc["shard"].is_object() || !doc["shard"].contains("index") ||
        !doc["shard"].contains("count"))
        throw input_error(path.string() + ": shard manifest without shard index and count");
    whole(doc["shard"]["index"], "shard.index");
    whole(doc["shard"]["count"], "shard.count");
    for (const char* key : {"rows", "dim", "records_seen", "block_records"}) whole(doc[key], key);
    if (doc["block_records"].get<int64_t>() < 1 || doc["shard"]["count"].get<int64_t>() < 1)
        throw input_error(path.string() + ": shard manifest with no blocks or no shards");
    if (doc["rows"].get<int64_t>() > 0 && !doc["vectors"].is_string())
        throw input_error(path.string() + ": shard manifest with rows but no \"vectors\" file");
    return doc;
}

// What every shard of one set shares, with the words an error uses for it.
const std::vector<std::pair<nlohmann::json::json_pointer, const char*>>& shared_fields() {
    using P = nlohmann::json::json_pointer;
    static const std::vector<std::pair<P, const char*>> fields = {
        {P("/input/sha256"), "another input"},
        {P("/model/sha256"), "another model"},
        {P("/card"), "another model card"},
        {P("/shard/count"), "another shard count"},
        {P("/block_records"), "another block size"},
        {P("/records_seen"), "another number of input records"},
    };
    return fields;
}

}  // namespace

ShardSpec parse_shard(const std::string& text, const EnvironmentLookup& env) {
    if (text == "auto")
        return from_environment(env ? env : [](const char* n) { return std::getenv(n); });
    const auto slash = text.find('/');
    const auto index =
        slash == std::string::npos ? std::nullopt : whole_number(text.substr(0, slash).c_str());
    const auto count =
        slash == std::string::npos ? std::nullopt : whole_number(text.substr(slash + 1).c_str());
    if (!index || !count)
        throw usage_error("--shard " + text +
                          ": expected I/N (shard I of N, 0-based: 0/4 .. 3/4) or auto");
    return checked(*index, *count, "--shard " + text);
}

fs::path manifest_path_for(const fs::path& vectors) {
    return vectors.parent_path() / (vectors.stem().string() + kManifestSuffix);
}

void write_shard_manifest(const ShardRecord& r) {
    const nlohmann::json doc = {
        {"kind", kManifestKind},
        {"format_version", 1},
        {"shard", {{"index", r.shard.index}, {"count", r.shard.count}, {"source", r.shard.source}}},
        {"block_records", r.block_records},
        {"input", file_identity(r.input)},
        {"model", file_identity(r.model)},
        {"card", r.card},
        // The file name only: a set stays readable when its directory is moved.
        {"vectors", r.rows > 0 ? nlohmann::json(r.vectors.filename().string()) : nlohmann::json()},
        {"rows", r.rows},
        {"dim", r.dim},
        {"records_seen", r.records_seen}};
    AtomicFile file(manifest_path_for(r.vectors));
    file.stream() << doc.dump(2) << "\n";
    file.commit();
}

bool is_shard_set(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) return false;
    for (const auto& entry : fs::directory_iterator(path, ec))
        if (is_manifest_name(entry.path().filename().string())) return true;
    return false;
}

ShardSet read_shard_set(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (is_manifest_name(entry.path().filename().string())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw input_error(dir.string() + ": no *.manifest.json shard manifests");

    std::map<int64_t, std::pair<fs::path, nlohmann::json>> by_index;
    nlohmann::json first;
    fs::path first_path;
    for (const fs::path& file : files) {
        nlohmann::json m = read_manifest(file);
        if (first.is_null()) {
            first = m;
            first_path = file;
        }
        for (const auto& [pointer, what] : shared_fields()) {
            if (!m.contains(pointer))
                throw input_error(file.string() + ": shard manifest without " +
                                  pointer.to_string());
            if (m.at(pointer) != first.at(pointer))
                throw input_error(file.string() + ": embedded " + what + " than " +
                                  first_path.filename().string() + " (" + m.at(pointer).dump() +
                                  " vs " + first.at(pointer).dump() +
                                  "); a set holds the shards of one run");
        }
        const int64_t index = m["shard"]["index"];
        if (index >= m["shard"]["count"].get<int64_t>())
            throw input_error(file.string() + ": shard " + std::to_string(index) + " of " +
                              m["shard"]["count"].dump() + " does not exist");
        const auto [it, inserted] = by_index.emplace(index, std::make_pair(file, m));
        if (!inserted)
            throw input_error(dir.string() + ": shard " + std::to_string(index) +
                              " appears twice (" + it->second.first.filename().string() + ", " +
                              file.filename().string() + ")");
    }
    const int64_t count = first["shard"]["count"];
    std::vector<std::string> missing;
    for (int64_t i = 0; i < count; ++i)
        if (!by_index.count(i)) missing.push_back(std::to_string(i));
    if (!missing.empty())
        throw input_error(dir.string() + ": shard(s) " + format_list(missing, 99) + " of " +
                          std::to_string(count) + " missing (" + std::to_string(by_index.size()) +
                          " manifests found); rerun those array tasks");

    ShardSet set;
    set.manifest = first;
    set.shards = count;
    std::vector<Vectors> parts(static_cast<size_t>(count));
    int64_t total = 0, dim = 0;
    for (auto& [index, entry] : by_index) {
        const auto& [file, m] = entry;
        const int64_t rows = m["rows"];
        if (rows == 0) continue;
        const fs::path vectors = dir / m["vectors"].get<std::string>();
        Vectors v = read_vectors(vectors);
        if (v.rows != rows || v.dim != m["dim"].get<int64_t>())
            throw input_error(vectors.string() + " has " + std::to_string(v.rows) + " x " +
                              std::to_string(v.dim) + " vectors but " + file.filename().string() +
                              " says " + std::to_string(rows) + " x " + m["dim"].dump());
        if (dim && v.dim != dim)
            throw input_error(vectors.string() + ": " + std::to_string(v.dim) +
                              "-dimensional vectors in a set of " + std::to_string(dim));
        dim = v.dim;
        total += rows;
        set.vector_bytes += fs::file_size(vectors);
        parts[static_cast<size_t>(index)] = std::move(v);
    }
    const int64_t seen = first["records_seen"], block = first["block_records"];
    if (total != seen)
        throw input_error(dir.string() + ": the shards hold " + std::to_string(total) +
                          " rows but the input has " + std::to_string(seen) + " records");

    // Block b of the input is shard (b mod N)'s next block; each shard must hold its blocks.
    std::vector<int64_t> expected(static_cast<size_t>(count), 0);
    for (int64_t b = 0; b * block < total; ++b)
        expected[static_cast<size_t>(b % count)] += std::min(block, total - b * block);
    for (const auto& [index, entry] : by_index)
        if (parts[static_cast<size_t>(index)].rows != expected[static_cast<size_t>(index)])
            throw input_error(entry.first.string() + ": shard " + std::to_string(index) +
                              " holds " + std::to_string(parts[static_cast<size_t>(index)].rows) +
                              " rows; its blocks of the input have " +
                              std::to_string(expected[static_cast<size_t>(index)]));
    set.vectors.rows = total;
    set.vectors.dim = dim;
    set.vectors.data.reserve(static_cast<size_t>(total * dim));
    std::vector<int64_t> cursor(static_cast<size_t>(count), 0);
    for (int64_t b = 0; b * block < total; ++b) {
        const auto s = static_cast<size_t>(b % count);
        const int64_t take = std::min(block, total - b * block);
        const float* from = parts[s].data.data() + cursor[s] * dim;
        set.vectors.data.insert(set.vectors.data.end(), from, from + take * dim);
        cursor[s] += take;
    }
    return set;
}

}  // namespace embq
