// Sharded embedding: the contract that lets schedulers users already run (Slurm job arrays,
// Kubernetes Indexed Jobs, anything that starts N copies with an index) embed one input in
// N processes, and eval read the pieces back as if one process had written them.
//
// The split: records (in the dataset reader's order) are grouped in blocks of the embedding
// window (EmbedOptions::window), and shard I of N embeds blocks I, I + N, I + 2N, ... Every
// shard streams the whole input once and tokenizes only its blocks; no pre-pass counts it.
// Because a block is exactly one window of the one-process run, each block is batched as
// that run batches it, so the rows are byte for byte the one-process rows (with the same
// threads: kernels may split reductions by thread count).
//
// Each shard writes its vectors and, beside them, a manifest (`part-0.npy` ->
// `part-0.manifest.json`): shard I of N, the block size, the input and model (path, bytes,
// sha256), the card, the rows it wrote and the records it saw. A directory of manifests is
// a shard set, which eval reads in the input's order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "embq/vectors.hpp"

namespace embq {

struct ShardSpec {
    int64_t index = 0;  // 0-based
    int64_t count = 1;
    std::string source;  // "--shard 1/4", "Slurm array (SLURM_ARRAY_TASK_ID=3)", ...
    // Does block `block` (records [block * size, (block + 1) * size)) belong to this shard?
    bool owns_block(int64_t block) const { return block % count == index; }
};

// The environment, for --shard auto; getenv by default, a map in tests.
using EnvironmentLookup = std::function<const char*(const char* name)>;

// "I/N" (0 <= I < N), or "auto": the Slurm array (SLURM_ARRAY_TASK_ID, minus
// SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX of EMBQ_SHARD_COUNT, which the Job sets to its completions: the
// Job does not expose that count itself). Usage errors say what is wrong or missing.
ShardSpec parse_shard(const std::string& text, const EnvironmentLookup& env = nullptr);

// `part-0.npy` -> `part-0.manifest.json` in the same directory.
std::filesystem::path manifest_path_for(const std::filesystem::path& vectors);

struct ShardRecord {
    ShardSpec shard;
    int64_t block_records = 0;  // records per block (the embedding window)
    std::filesystem::path input, model, vectors;
    nlohmann::json card;        // the card the model was read with
    int64_t rows = 0, dim = 0;  // what this shard wrote (dim 0: it owned no block)
    int64_t records_seen = 0;   // every record of the input, owned or not
};

// Writes the manifest beside `record.vectors` atomically. The input and the model are hashed
// here (sha256), so a set mixing inputs or models is caught when it is read.
void write_shard_manifest(const ShardRecord& record);

// A directory holding at least one *.manifest.json.
bool is_shard_set(const std::filesystem::path& path);

struct ShardSet {
    Vectors vectors;          // every shard's rows, in the input's order
    nlohmann::json manifest;  // shard 0's manifest (input, model, card: the set's identity)
    int64_t shards = 0;
    uintmax_t vector_bytes = 0;  // the shards' vector files together
};

// Reads every shard of `dir` and puts the rows back in input order. Input errors, one line
// naming the shard: a shard missing or twice, shards of another input, model, card, shard
// count or block size, a vector file whose rows or dimension are not its manifest's.
ShardSet read_shard_set(const std::filesystem::path& dir);

}  // namespace embq
