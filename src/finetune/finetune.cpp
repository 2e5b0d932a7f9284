#include "embq/finetune.hpp"

#include <cmath>

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include "calibrate/instrument.hpp"
#include "embq/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/sha256.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/metrics.hpp"
#include "finetune/student.hpp"
#include "model/graph_util.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kRecallK = 10;

// Reads the data file once for the held-out texts, then streams the rest as training
// batches, starting again after the held-out texts at the end of the file.
class TrainingTexts {
public:
    TrainingTexts(const FinetuneOptions& o, const Tokenizer* tokenizer, size_t max_length)
        : options_(o), tokenizer_(tokenizer), max_length_(max_length) {
        open();
        Encoding e;
        while (held_out_.size() < o.holdout && read(e)) held_out_.push_back(e);
        if (held_out_.size() < o.holdout || !read(e))
            throw input_error(o.data.string() + ": finetune needs more than " +
                              std::to_string(o.holdout) + " texts (--holdout " +
                              std::to_string(o.holdout) +
                              " are held out to score the student, the rest train it); it has " +
                              std::to_string(held_out_.size()));
        pending_ = std::move(e);
    }

    const std::vector<Encoding>& held_out() const { return held_out_; }

    std::vector<Encoding> next_batch(size_t n) {
        std::vector<Encoding> batch;
        while (batch.size() < n) {
            if (pending_) {
                batch.push_back(std::move(*pending_));
                pending_.reset();
                continue;
            }
            Encoding e;
            if (!read(e)) {  // the end: train on the file again, held-out texts skipped
                open();
                for (size_t i = 0; i < options_.holdout; ++i) read(e);
                continue;
            }
            batch.push_back(std::move(e));
        }
        return batch;
    }

private:
    void open() { reader_ = std::make_unique<DatasetReader>(options_.data, options_.format); }
    bool read(Encoding& e) {
        Record record;
        if (!reader_->next(record)) return false;
        e = encode_record(record, tokenizer_, max_length_, options_.data);
        return true;
    }

    const FinetuneOptions& options_;
    const Tokenizer* tokenizer_;
    size_t max_length_;
    std::unique_ptr<DatasetReader> reader_;
    std::vector<Encoding> held_out_;
    std::optional<Encoding> pending_;
};

std::vector<const Encoding*> pointers(const std::vector<Encoding>& encodings, size_t begin,
                                      size_t end) {
    std::vector<const Encoding*> out;
    for (size_t i = begin; i < end; ++i) out.push_back(&encodings[i]);
    return out;
}

Vectors embed_all(Embedder& embedder, const std::vector<Encoding>& texts, int64_t batch_size) {
    Vectors v;
    for (size_t start = 0; start < texts.size(); start += static_cast<size_t>(batch_size)) {
        const size_t end = std::min(texts.size(), start + static_cast<size_t>(batch_size));
        const at::Tensor rows = embedder.embed(pointers(texts, start, end));
        v.dim = rows.size(1);
        v.data.insert(v.data.end(), rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
        v.rows += rows.size(0);
    }
    return v;
}

at::Tensor unit_rows(const at::Tensor& v) { return v / v.norm(2, 1, true).clamp_min(1e-12); }

// The loss in finetune.hpp's header comment.
at::Tensor distillation_loss(const at::Tensor& student, const at::Tensor& teacher,
                             double similarity_weight) {
    const at::Tensor s = unit_rows(student), t = unit_rows(teacher);
    const at::Tensor cosine_term = (1 - (s * t).sum(1)).mean();
    if (similarity_weight == 0) return cosine_term;
    const at::Tensor similarity_term = (s.mm(s.t()) - t.mm(t.t())).pow(2).mean();
    return cosine_term + similarity_weight * similarity_term;
}

// Every linear layer's output in one forward pass, by observe site (student and teacher
// are instrumented alike, so their sites match).
class LayerOutputs {
public:
    LayerOutputs(torch::jit::Module& teacher, torch::jit::Module& student) {
        const auto teacher_sites = instrument_linear_layers(teacher);
        const auto student_sites = instrument_linear_layers(student);
        EMBQ_ASSERT(teacher_sites.size() == student_sites.size());
        for (size_t i = 0; i < teacher_sites.size(); ++i) {
            EMBQ_ASSERT(teacher_sites[i].layer == student_sites[i].layer);
            if (teacher_sites[i].output) outputs_.push_back(static_cast<int64_t>(i));
        }
    }

    // Runs `forward` with the outputs recorded; they keep their autograd history.
    at::Tensor record(const std::function<at::Tensor()>& forward, std::vector<at::Tensor>& seen) {
        seen.assign(outputs_.size(), at::Tensor());
        ScopedActivationTap tap([&](int64_t site, const at::Tensor& activation) {
            const auto it = std::find(outputs_.begin(), outputs_.end(), site);
            if (it != outputs_.end()) seen[static_cast<size_t>(it - outputs_.begin())] = activation;
        });
        return forward();
    }

private:
    std::vector<int64_t> outputs_;  // the sites that see a layer's output
};

// 1 for each real token of the batch, 0 for padding: [texts, longest].
at::Tensor token_mask(const std::vector<Encoding>& batch) {
    size_t longest = 1;
    for (const auto& e : batch) longest = std::max(longest, e.ids.size());
    at::Tensor mask = at::zeros({static_cast<int64_t>(batch.size()), static_cast<int64_t>(longest)});
    for (size_t r = 0; r < batch.size(); ++r)
        mask[static_cast<int64_t>(r)].narrow(0, 0, static_cast<int64_t>(batch[r].ids.size())).fill_(1);
    return mask;
}

// mean_l ||S_l - T_l||^2 / ||T_l||^2 over the layers both passes reached, padding
// positions left out as calibration leaves them out (when the activation is laid out
// [texts, tokens, features]; other layouts count every row).
at::Tensor layer_loss(const std::vector<at::Tensor>& student, const std::vector<at::Tensor>& teacher,
                      const at::Tensor& mask) {
    at::Tensor total = at::zeros({});
    int64_t layers = 0;
    for (size_t l = 0; l < student.size(); ++l) {
        if (!student[l].defined() || !teacher[l].defined()) continue;
        at::Tensor error = (student[l] - teacher[l]).pow(2), energy = teacher[l].pow(2);
        if (error.dim() == 3 && error.size(0) == mask.size(0) && error.size(1) == mask.size(1)) {
            error = error * mask.unsqueeze(-1);
            energy = energy * mask.unsqueeze(-1);
        }
        total = total + error.sum() / energy.sum().clamp_min(1e-12);
        ++layers;
    }
    // The taps see nothing when a model ran before it was instrumented.
    if (layers == 0) throw runtime_failure("internal: no layer outputs were recorded");
    return total / layers;
}

// Linear warm-up, then cosine decay to 0 at the last step.
double learning_rate_at(int64_t step, const FinetuneOptions& o, int64_t warmup) {
    if (step <= warmup) return o.learning_rate * static_cast<double>(step) / (warmup + 1);
    const double progress =
        static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, o.steps - warmup));
    return o.learning_rate * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress)));
}

struct HeldOut {
    const std::vector<Encoding>& texts;
    Vectors teacher;
    Neighbours truth;
    std::vector<int64_t> self;  // each query's own row, excluded from its neighbours
};

HeldOutScore score(Student& student, Embedder& embedder, const HeldOut& held_out,
                   int64_t batch_size, int64_t step) {
    // No gradients, but not inference mode either: tensors made in inference mode (the
    // weights refresh() sets) could not be saved for the next training step's backward.
    at::NoGradGuard no_grad;
    student.refresh();
    const Vectors v = embed_all(embedder, held_out.texts, batch_size);
    const int64_t k = std::min<int64_t>(kRecallK, v.rows - 1);
    const Neighbours found = search(v, v, k, SimilarityMetric::Cosine, {}, &held_out.self);
    const CosineSummary cosine = rowwise_cosine(held_out.teacher, v);
    HeldOutScore s;
    s.step = step;
    s.recall_at_10 = recall_at_k(held_out.truth, found, k);
    s.cosine_mean = cosine.mean;
    s.cosine_p5 = cosine.p5;
    return s;
}

bool better(const HeldOutScore& a, const HeldOutScore& b) {
    if (a.recall_at_10 != b.recall_at_10) return a.recall_at_10 > b.recall_at_10;
    return a.cosine_mean > b.cosine_mean;
}

void check_options(const FinetuneOptions& o) {
    if (o.steps < 1) throw usage_error("--steps must be at least 1");
    if (o.batch_size < 2)
        throw usage_error("--batch-size must be at least 2 (the similarity term compares texts "
                          "within a batch)");
    if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate))
        throw usage_error("--lr must be a positive number");
    if (!(o.similarity_weight >= 0) || !std::isfinite(o.similarity_weight))
        throw usage_error("--similarity-weight must be 0 or more");
    if (!(o.layer_weight >= 0) || !std::isfinite(o.layer_weight))
        throw usage_error("--layer-weight must be 0 or more");
    if (o.holdout < 2 * kRecallK)
        throw usage_error("--holdout must be at least " + std::to_string(2 * kRecallK) +
                          " texts (recall@10 is scored among them)");
    if (o.eval_every < 1) throw usage_error("--eval-every must be at least 1");
    if (o.warmup_steps >= o.steps) throw usage_error("--warmup must be less than --steps");
}

nlohmann::json score_json(const HeldOutScore& s) {
    return {{"step", s.step},
            {"recall@10", s.recall_at_10},
            {"cosine_mean", s.cosine_mean},
            {"cosine_p5", s.cosine_p5}};
}

// Copies the trained tensors into the pristine FP32 model the quantize path reads.
void load_tensors(torch::jit::Module& model, const std::map<std::string, at::Tensor>& tensors) {
    for (const auto& [path, t] : tensors) {
        const size_t dot = path.rfind('.');
        const std::string owner = dot == std::string::npos ? "" : path.substr(0, dot);
        submodule(model, owner).setattr(path.substr(dot + 1), t);
    }
}

std::vector<std::string> changed_tensors(const std::map<std::string, at::Tensor>& before,
                                         const std::map<std::string, at::Tensor>& after) {
    std::vector<std::string> changed;
    for (const auto& [path, t] : after)
        if (!at::equal(t, before.at(path))) changed.push_back(path);
    return changed;
}

// The three models training runs: the frozen FP32 teacher, the student and the Embedder
// that runs it, and (with a layer term) the taps on both models' linear layers.
struct Models {
    EmbeddingModel& teacher;
    Student& student;
    Embedder& learner;
    std::optional<LayerOutputs>& layer_outputs;
};

// The loss in finetune.hpp's header comment for one batch, with its autograd history.
at::Tensor batch_loss(Models& m, const std::vector<Encoding>& batch, const FinetuneOptions& o) {
    const auto rows = pointers(batch, 0, batch.size());
    if (!m.layer_outputs) {
        const at::Tensor target = m.teacher.embedder.embed(rows).clone();  // out of inference mode
        m.student.refresh();
        return distillation_loss(m.learner.embed(rows), target, o.similarity_weight);
    }
    std::vector<at::Tensor> teacher_layers, student_layers;
    const at::Tensor target =
        m.layer_outputs->record([&] { return m.teacher.embedder.embed(rows); }, teacher_layers)
            .clone();
    for (auto& t : teacher_layers)
        if (t.defined()) t = t.clone();
    m.student.refresh();
    const at::Tensor output =
        m.layer_outputs->record([&] { return m.learner.embed(rows); }, student_layers);
    return distillation_loss(output, target, o.similarity_weight) +
           o.layer_weight * layer_loss(student_layers, teacher_layers, token_mask(batch));
}

// What the output's metadata records under "finetune".
nlohmann::json provenance_json(const FinetuneResult& r, const FinetuneOptions& o, int64_t warmup) {
    nlohmann::json history = nlohmann::json::array();
    for (const auto& s : r.history) history.push_back(score_json(s));
    return {{"data", {{"file", o.data.filename().string()}, {"sha256", sha256_file(o.data)}}},
            {"held_out_texts", o.holdout},
            {"steps_run", r.steps_run},
            {"best_step", r.best.step},
            {"batch_size", o.batch_size},
            {"learning_rate", o.learning_rate},
            {"warmup_steps", warmup},
            {"loss",
             {{"cosine", 1.0}, {"similarity", o.similarity_weight}, {"layers", o.layer_weight}}},
            {"simulated_layers", r.simulated_layers},
            {"rounded_inputs", r.rounded_inputs},
            {"trained_tensors", r.trained_tensors},
            {"changed_tensors", r.changed_tensors.size()},
            {"held_out", {{"before", score_json(r.before)}, {"best", score_json(r.best)}}},
            {"history", history}};
}

}  // namespace

FinetuneResult finetune(const QuantizeRequest& request, const FinetuneOptions& o,
                        const fs::path& output,
                        const std::function<void(const FinetuneProgress&)>& on_progress) {
    check_options(o);
    for (const fs::path& input : {request.config, o.data})
        if (is_same_file(output, input))
            throw usage_error(output.string() + ": the output would overwrite the input " +
                              input.string() + "; choose another -o path");
    const auto start = Clock::now();
    PlannedModel planned = load_and_plan(request);
    check_output_format(planned.plan, output);
    Student student(request.model, planned.plan);  // refuses what it cannot simulate
    if (planned.plan.needs_calibration())
        throw usage_error("the plan needs a calibration, which finetune does not take; use "
                          "schemes that need none");

    EmbeddingModel teacher = open_embedding_model(request.model, request.calibration_model);
    Embedder learner(student.module(), teacher.embedder.card());
    learner.set_pad_id(teacher.embedder.pad_id());
    learner.set_gradients(true);
    // Instrumented before either model runs: a graph executor keeps the graph it first ran.
    std::optional<LayerOutputs> layer_outputs;
    if (o.layer_weight > 0) layer_outputs.emplace(teacher.embedder.module(), student.module());
    TrainingTexts texts(o, teacher.tokenizer.get(),
                        static_cast<size_t>(teacher.embedder.card().max_length));

    HeldOut held_out{texts.held_out(), embed_all(teacher.embedder, texts.held_out(), o.batch_size),
                     {}, {}};
    for (int64_t i = 0; i < held_out.teacher.rows; ++i) held_out.self.push_back(i);
    const int64_t k = std::min<int64_t>(kRecallK, held_out.teacher.rows - 1);
    held_out.truth =
        search(held_out.teacher, held_out.teacher, k, SimilarityMetric::Cosine, {}, &held_out.self);

    FinetuneResult result;
    result.simulated_layers = student.simulated_layers();
    result.rounded_inputs = student.rounded_inputs();
    const std::map<std::string, at::Tensor> initial = student.snapshot();
    result.trained_tensors = initial.size();
    result.before = score(student, learner, held_out, o.batch_size, 0);
    result.best = result.before;
    result.history.push_back(result.before);
    std::map<std::string, at::Tensor> best = initial;

    const int64_t warmup = o.warmup_steps >= 0 ? o.warmup_steps : o.steps / 10;
    std::vector<at::Tensor> params = student.parameters();
    torch::optim::AdamW optimizer(params,
                                  torch::optim::AdamWOptions(o.learning_rate).weight_decay(0));
    Models models{teacher, student, learner, layer_outputs};
    const auto train_start = Clock::now();
    double loss_sum = 0;
    int64_t loss_count = 0, without_gain = 0;
    for (int64_t step = 1; step <= o.steps; ++step) {
        const std::vector<Encoding> batch = texts.next_batch(static_cast<size_t>(o.batch_size));
        const at::Tensor loss = batch_loss(models, batch, o);
        const double value = loss.item<double>();
        if (!std::isfinite(value))
            throw runtime_failure("the fine-tuning loss is " + std::to_string(value) + " at step " +
                                  std::to_string(step) +
                                  "; nothing was written. Lower --lr (now " +
                                  std::to_string(o.learning_rate) + ") or check the model's weights");
        for (auto& group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options())
                .lr(learning_rate_at(step, o, warmup));
        optimizer.zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(params, o.clip_norm);
        optimizer.step();
        loss_sum += value;
        ++loss_count;
        result.steps_run = step;

        FinetuneProgress progress{step, o.steps, value, seconds_since(train_start), nullptr};
        if (step % o.eval_every == 0 || step == o.steps) {
            HeldOutScore s = score(student, learner, held_out, o.batch_size, step);
            s.loss = loss_sum / static_cast<double>(loss_count);
            loss_sum = 0;
            loss_count = 0;
            result.history.push_back(s);
            progress.scored = &result.history.back();
            if (better(s, result.best)) {
                result.best = s;
                best = student.snapshot();
                without_gain = 0;
            } else {
                ++without_gain;
            }
            if (on_progress) on_progress(progress);
            if (without_gain >= o.patience && step < o.steps) {
                result.stopped_early = true;
                break;
            }
        } else if (on_progress) {
            on_progress(progress);
        }
    }

    result.changed_tensors = changed_tensors(initial, best);
    load_tensors(planned.model.module, best);
    result.quantized = quantize_model(std::move(planned.model), planned.plan, planned.config.source,
                                      output, nullptr,
                                      {{"finetune", provenance_json(result, o, warmup)}});
    result.seconds = seconds_since(start);
    return result;
}

}  // namespace embq
