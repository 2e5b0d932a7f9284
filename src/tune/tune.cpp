#include "embq/tune.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/model.hpp"
#include "embq/report.hpp"
#include "tune/search_common.hpp"
#include "tune/trial.hpp"

namespace embq {

namespace {

// A gate the search steers by: an agreement metric with a threshold below FP32's own
// value. `slack` is how much loss the gate allows (0.03 for recall@10 >= 0.97).
struct SteeringGate {
    const Gate* gate;
    double slack;
};

// One choice for one layer: a candidate, what it costs and what it loses.
struct Rung {
    const Candidate* candidate = nullptr;
    int64_t bytes = 0;
    double cost = 0;  // the objective: bytes, or predicted time
    double loss = 0;  // max over steering gates of (single-layer loss / slack); 0 for fp16/fp32
    std::string headline;  // "recall@10 0.9872" alone, or why it is assumed lossless
    std::string evidence;  // the headline with its interval and cosine.p5
};

struct Ladder {
    const Layer* layer = nullptr;
    std::vector<Rung> rungs;  // cost ascending, loss strictly descending (dominated dropped)
};

using Assignment = std::vector<size_t>;  // rung per ladder

double normalised(double loss, double slack) {
    loss = std::max(0.0, loss);
    if (slack <= 0) return loss > 1e-12 ? 1e9 : 0.0;  // no slack: any loss breaks the gate
    return loss / slack;
}

std::string metric_text(const MetricValues& m, const std::string& name) {
    const auto v = m.get(name);
    return name + " " + (v ? format_metric(*v) : "n/a");
}

class Tuner {
public:
    Tuner(const TuneInputs& inputs, const TuneOptions& options, const EvalOptions& eval_options,
          const SearchProgress& progress)
        : inputs_(inputs), options_(options), eval_options_(eval_options), progress_(progress) {}

    TuneResult run();

private:
    void check_options();
    double slack_per_energy() const;
    void build_ladders(const ModelInventory& inventory);
    std::map<std::pair<std::string, std::string>, double> layer_speedups(
        const ModelInventory& inventory, const std::vector<const Candidate*>& candidates) const;
    Assignment allocate(double lambda) const;
    double predicted_loss(const Assignment& a) const;
    double predicted_cost(const Assignment& a) const;
    nlohmann::json config_of(const Assignment& a) const;
    std::vector<LayerChoice> choices_of(const Assignment& a) const;
    bool out_of_budget() const;
    // Verifies `a` on the search texts; the candidate's index in result_.candidates.
    size_t verify(const Assignment& a, const std::string& move);
    void search_lambda();
    void refine();
    void check_holdout();

    const TuneInputs& inputs_;
    const TuneOptions& options_;
    const EvalOptions& eval_options_;
    const SearchProgress& progress_;
    std::vector<SteeringGate> steering_;
    std::vector<Candidate> candidates_;  // measured by sensitivity
    std::vector<Candidate> safe_;        // fp16 and fp32 when not among them: assumed lossless
    std::vector<Ladder> ladders_;
    std::unique_ptr<TrialRunner> runner_;
    std::map<Assignment, size_t> seen_;
    std::optional<Assignment> best_;
    std::optional<double> pass_lambda_, fail_lambda_;  // largest passing, smallest failing budget
    TuneResult result_;
    Clock::time_point t0_ = Clock::now();
    int evals_ = 0;
};

void Tuner::check_options() {
    if (options_.gates.empty())
        throw usage_error("tune needs a target: --gate 'recall@10>=0.97' (repeatable)");
    for (const auto& g : options_.gates) {
        if (!is_agreement_metric(g.resolved)) continue;
        if (g.op != Gate::Op::GreaterEqual && g.op != Gate::Op::Greater)
            throw usage_error("--gate '" + g.text + "': tune steers by gates that ask for at "
                              "least some agreement (>= or >)");
        steering_.push_back({&g, agreement_loss(g.metric, g.threshold)});
    }
    if (steering_.empty())
        throw usage_error("tune needs at least one gate on an agreement metric (recall@K, "
                          "eps_recall@K, cosine.p5, hit@K_delta, ...) to steer by");
    if (options_.max_evals < 1) throw usage_error("--max-evals must be at least 1");
    if (options_.max_size && (*options_.max_size <= 0 || *options_.max_size > 1))
        throw usage_error("--max-size is a share of the FP32 size, in (0, 1]");
}

std::map<std::pair<std::string, std::string>, double> Tuner::layer_speedups(
    const ModelInventory& inventory, const std::vector<const Candidate*>& candidates) const {
    std::map<std::pair<std::string, std::string>, double> out;
    for (const Candidate* c : candidates) {
        spdlog::info("timing every layer under {} (speed objective)", c->name);
        std::vector<LayerGroupSpeed> groups;
        try {
            const Plan plan = plan_for(inventory, single_scheme_config(inventory, *c),
                                       runner_->has_calibration());
            groups = check_plan_speed(plan, options_.speed).groups;
        } catch (const Error& e) {
            // A layer its options do not fit: its speed counts as FP32's.
            spdlog::warn("{} not timed: {}", c->name, e.what());
        }
        for (const auto& g : groups) {
            double log_sum = 0;  // geometric mean over the batch sizes
            for (const double x : g.speedup) log_sum += std::log(x);
            const double mean = std::exp(log_sum / static_cast<double>(g.speedup.size()));
            for (const auto& layer : g.layers) out[{layer, c->name}] = mean;
        }
    }
    return out;
}

// A single-layer trial's error energy: 1 - mean cosine to FP32. For small errors it is half
// the squared error of the unit vectors, and independent errors add in square, so energies
// add across layers. Strict recall of one layer alone does not: near-tied neighbours swap
// at the first touch (on USE-Lite every int8 layer alone costs 1-2 points of recall@10 at
// cosine 0.9999, and all fourteen together about 5).
double error_energy(const SensitivityEntry& e) {
    return std::max(0.0, 1.0 - e.metrics.get("cosine.mean").value_or(0.0));
}

// Each gate's loss as a multiple of error energy, fitted by least squares through the
// origin over the single-layer trials, as a share of the gate's slack; the largest over the
// gates. 1 unit of predicted loss is then "one gate's slack used up".
double Tuner::slack_per_energy() const {
    double worst = 0;
    for (const auto& sg : steering_) {
        double xy = 0, xx = 0;
        for (const auto& e : result_.sensitivity.entries) {
            const auto v = e.metrics.get(sg.gate->metric);
            if (e.target.kind != SensitivityTarget::Kind::Layer || !e.error.empty() || !v ||
                std::isnan(*v))
                continue;
            const double x = error_energy(e);
            xy += x * std::max(0.0, agreement_loss(sg.gate->metric, *v));
            xx += x * x;
        }
        if (xx > 0) worst = std::max(worst, normalised(xy / xx, sg.slack));
    }
    return worst;
}

void Tuner::build_ladders(const ModelInventory& inventory) {
    const SensitivityResult& sens = result_.sensitivity;
    std::vector<const Candidate*> rungs;
    for (const Candidate& c : candidates_) rungs.push_back(&c);
    for (const Candidate& c : safe_) rungs.push_back(&c);
    std::map<std::pair<std::string, std::string>, double> speedup;
    double linear_params = 0;
    if (options_.objective == TuneObjective::Speed) {
        std::vector<const Candidate*> timed;
        for (const Candidate* c : rungs)
            if (c->scheme->rewrites()) timed.push_back(c);
        speedup = layer_speedups(inventory, timed);
        for (const auto& l : inventory.layers)
            if (l.kind == LayerKind::Linear) linear_params += static_cast<double>(l.params);
    }
    const double fp32_bytes = static_cast<double>(runner_->fp32_bytes());
    const double loss_per_energy = slack_per_energy();

    for (const auto& layer : inventory.layers) {
        Ladder ladder{&layer, {}};
        for (const Candidate* c : rungs) {
            if (!c->scheme->supports(layer.kind)) continue;
            Rung r;
            r.candidate = c;
            try {
                r.bytes = c->stored_bytes(layer);
            } catch (const Error&) {
                continue;  // its options do not fit this layer (a group size)
            }
            const std::string& name = c->name;
            const bool assumed = std::any_of(safe_.begin(), safe_.end(),
                                             [&](const Candidate& safe) { return &safe == c; });
            if (assumed) {
                r.headline = name == "fp32" ? "FP32 as it is" : "fp16 (agreement not measured: "
                                                                "fp16 weights keep cosine 1.0000)";
                r.evidence = r.headline;
            } else {
                const SensitivityEntry* e = nullptr;
                for (const auto& entry : sens.entries)
                    if (entry.target.kind == SensitivityTarget::Kind::Layer &&
                        entry.target.name == layer.path && entry.scheme == name)
                        e = &entry;
                if (!e || !e->error.empty()) continue;  // not measured or failed: not a choice
                r.loss = loss_per_energy * error_energy(*e);
                r.headline = "alone: " + metric_text(e->metrics, steering_.front().gate->metric);
                r.evidence = r.headline;
                if (const auto iv = e->interval(steering_.front().gate->metric))
                    r.evidence += " [" + format_metric(iv->low) + ", " + format_metric(iv->high) + "]";
                r.evidence += ", " + metric_text(e->metrics, "cosine.p5") + ", " +
                              metric_text(e->metrics, "cosine.mean");
            }
            if (options_.objective == TuneObjective::Size) {
                r.cost = static_cast<double>(r.bytes);
            } else {
                // Time in units of the model's linear FLOPs (FP32 = 1); tables cost no time
                // worth steering by, so size breaks ties.
                double time = 0;
                if (layer.kind == LayerKind::Linear && linear_params > 0) {
                    const auto it = speedup.find({layer.path, name});
                    const double x = name == "fp32" ? 1.0 : (it == speedup.end() ? 1.0 : it->second);
                    time = static_cast<double>(layer.params) / linear_params / x;
                }
                r.cost = time + 1e-3 * static_cast<double>(r.bytes) / fp32_bytes;
            }
            ladder.rungs.push_back(r);
        }
        // Cheapest first; drop a rung when a cheaper one loses no more.
        std::stable_sort(ladder.rungs.begin(), ladder.rungs.end(),
                         [](const Rung& a, const Rung& b) { return a.cost < b.cost; });
        std::vector<Rung> kept;
        for (const auto& r : ladder.rungs)
            if (kept.empty() || r.loss < kept.back().loss) kept.push_back(r);
        ladder.rungs = std::move(kept);
        ladders_.push_back(std::move(ladder));
    }
}

double Tuner::predicted_loss(const Assignment& a) const {
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += ladders_[i].rungs[a[i]].loss;
    return sum;
}

double Tuner::predicted_cost(const Assignment& a) const {
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += ladders_[i].rungs[a[i]].cost;
    return sum;
}

// Greedy knapsack: every layer on its cheapest rung, then the move with the most loss
// removed per unit of cost added until the predicted loss fits in lambda.
Assignment Tuner::allocate(double lambda) const {
    Assignment a(ladders_.size(), 0);
    double loss = predicted_loss(a);
    while (loss > lambda + 1e-12) {
        double best_gain = -1;
        size_t best_layer = 0, best_rung = 0;
        for (size_t i = 0; i < ladders_.size(); ++i) {
            const Rung& now = ladders_[i].rungs[a[i]];
            for (size_t r = a[i] + 1; r < ladders_[i].rungs.size(); ++r) {
                const Rung& next = ladders_[i].rungs[r];
                const double added = std::max(next.cost - now.cost, 1e-18);
                const double gain = (now.loss - next.loss) / added;
                if (gain > best_gain) best_gain = gain, best_layer = i, best_rung = r;
            }
        }
        if (best_gain <= 0) break;  // every layer at a lossless rung
        loss -= ladders_[best_layer].rungs[a[best_layer]].loss -
                ladders_[best_layer].rungs[best_rung].loss;
        a[best_layer] = best_rung;
    }
    return a;
}

std::vector<LayerChoice> Tuner::choices_of(const Assignment& a) const {
    std::vector<LayerChoice> out;
    for (size_t i = 0; i < a.size(); ++i) {
        const Ladder& l = ladders_[i];
        const Rung& r = l.rungs[a[i]];
        LayerChoice c{l.layer->path, r.candidate->name, r.bytes, r.loss, r.evidence};
        if (a[i] > 0) {
            const Rung& smaller = l.rungs[a[i] - 1];
            c.evidence += "; smaller " + smaller.candidate->name + " " + smaller.headline;
        }
        out.push_back(std::move(c));
    }
    return out;
}

nlohmann::json Tuner::config_of(const Assignment& a) const {
    nlohmann::json rules = nlohmann::json::array();
    const std::vector<LayerChoice> choices = choices_of(a);
    for (size_t i = 0; i < a.size(); ++i) {
        nlohmann::json rule = ladders_[i].rungs[a[i]].candidate->rule(choices[i].layer);
        rule["$comment"] = choices[i].evidence;
        rules.push_back(std::move(rule));
    }
    return {{"engine", "auto"}, {"rules", rules}};
}

bool Tuner::out_of_budget() const {
    return options_.time_budget_seconds > 0 && seconds_since(t0_) > options_.time_budget_seconds;
}

size_t Tuner::verify(const Assignment& a, const std::string& move) {
    if (const auto it = seen_.find(a); it != seen_.end()) return it->second;
    TuneCandidate c;
    c.step = static_cast<int>(result_.candidates.size()) + 1;
    c.move = move;
    c.layers = choices_of(a);
    c.predicted_cost = predicted_cost(a);
    c.predicted_loss = predicted_loss(a);
    c.config = config_of(a);
    if (progress_.start)
        progress_.start("verify " + std::to_string(c.step) + " (" + move + ")", runner_->texts());
    const Trial trial = runner_->run(c.config, progress_.update);
    ++evals_;
    c.bytes = static_cast<int64_t>(trial.bytes);
    c.size_ratio = static_cast<double>(trial.bytes) / static_cast<double>(runner_->fp32_bytes());
    c.metrics = trial.result.metrics;
    c.verdicts = trial.verdicts;
    c.gates_passed = trial.passed();
    c.passed = c.gates_passed && (!options_.max_size || c.size_ratio <= *options_.max_size);
    spdlog::info("step {} ({}): size {:.1f}% of FP32, {}: {}", c.step, move, 100 * c.size_ratio,
                 metric_text(c.metrics, steering_.front().gate->metric),
                 c.passed ? "pass" : "fail");
    const size_t index = result_.candidates.size();
    result_.candidates.push_back(std::move(c));
    seen_[a] = index;
    const TuneCandidate& added = result_.candidates.back();
    if (added.passed &&
        (!best_ || added.predicted_cost < result_.candidates[*result_.best].predicted_cost)) {
        best_ = a;
        result_.best = index;
    }
    return index;
}

void Tuner::search_lambda() {
    std::optional<double>& pass_lambda = pass_lambda_;
    std::optional<double>& fail_lambda = fail_lambda_;
    double lambda = 1.0;
    for (int idle = 0; idle < 40; ++idle) {
        if (evals_ >= options_.max_evals) {
            result_.stopped = "the evaluation budget (--max-evals " +
                              std::to_string(options_.max_evals) + ") is spent";
            return;
        }
        if (out_of_budget()) {
            result_.stopped = "the time budget is spent";
            return;
        }
        const Assignment a = allocate(lambda);
        const bool fresh = !seen_.count(a);
        const size_t i = verify(a, "lambda " + format_fixed(lambda, 3));
        TuneCandidate& c = result_.candidates[i];
        const bool cheapest = a == Assignment(ladders_.size(), 0);
        const bool lossless = predicted_loss(a) <= 0;
        // The budget follows the gates; a config over --max-size that passes them asks for a
        // larger budget (a smaller config), as any passing one does.
        if (c.gates_passed) {
            pass_lambda = std::max(pass_lambda.value_or(lambda), lambda);
        } else {
            fail_lambda = std::min(fail_lambda.value_or(lambda), lambda);
        }
        if (fresh) idle = 0;
        if (c.gates_passed && cheapest) {
            c.why = c.passed ? "every layer on its smallest candidate passes: nothing smaller "
                               "to try"
                             : "every layer on its smallest candidate passes the gates but is "
                               "over --max-size: no config passes";
            result_.stopped = c.why;
            return;
        }
        if (!c.gates_passed && lossless) {
            c.why = "fails with every layer on a lossless choice: no config passes";
            result_.stopped = c.why;
            return;
        }
        if (pass_lambda && fail_lambda && *fail_lambda / *pass_lambda < 1.05) {
            result_.stopped = "the budget search converged between lambda " +
                              format_fixed(*pass_lambda, 3) + " (pass) and " +
                              format_fixed(*fail_lambda, 3) + " (fail)";
            return;
        }
        if (!pass_lambda) {
            lambda = *fail_lambda / 2;
            if (fresh) c.why = "fails: halve the loss budget";
        } else if (!fail_lambda) {
            lambda = *pass_lambda * 2;
            if (fresh)
                c.why = std::string(c.passed ? "passes" : "passes the gates, over --max-size") +
                        ": double the loss budget";
        } else {
            lambda = std::sqrt(*pass_lambda * *fail_lambda);
            if (fresh)
                c.why = std::string(c.gates_passed ? "passes" : "fails") + ": bisect the budget";
        }
    }
    result_.stopped = "the budget search found no new config";
}

// From the best passing config, move single layers one rung cheaper, the least
// predicted loss per unit of cost saved first; keep each move that still passes. A move
// predicted to lose more than twice the smallest budget that failed is not tried: the
// budget search measured that far less already fails.
void Tuner::refine() {
    if (!best_) return;
    struct Move {
        size_t layer;
        double price;
    };
    bool improved = true;
    std::set<std::pair<size_t, size_t>> tried;  // (layer, rung it was moved from)
    while (improved) {
        improved = false;
        std::vector<Move> moves;
        for (size_t i = 0; i < ladders_.size(); ++i) {
            const size_t r = (*best_)[i];
            if (r == 0 || tried.count({i, r})) continue;
            const Rung& now = ladders_[i].rungs[r];
            const Rung& smaller = ladders_[i].rungs[r - 1];
            moves.push_back({i, (smaller.loss - now.loss) / std::max(now.cost - smaller.cost, 1e-18)});
        }
        std::stable_sort(moves.begin(), moves.end(),
                         [](const Move& a, const Move& b) { return a.price < b.price; });
        for (const auto& m : moves) {
            if (evals_ >= options_.max_evals || out_of_budget()) {
                result_.stopped += "; refining stopped: " +
                                   std::string(out_of_budget() ? "time" : "evaluation") +
                                   " budget spent";
                return;
            }
            Assignment a = *best_;
            tried.insert({m.layer, a[m.layer]});
            --a[m.layer];
            if (fail_lambda_ && predicted_loss(a) > 2 * *fail_lambda_) continue;
            const Ladder& l = ladders_[m.layer];
            const std::string move = l.layer->path + ": " +
                                     l.rungs[a[m.layer] + 1].candidate->name + " -> " +
                                     l.rungs[a[m.layer]].candidate->name;
            if (seen_.count(a)) continue;  // verified before, in the budget search
            const Assignment previous = *best_;
            const size_t i = verify(a, move);
            TuneCandidate& c = result_.candidates[i];
            if (*best_ != previous) {
                c.why = "passes and is cheaper: kept";
                improved = true;
                break;
            }
            c.why = c.passed ? "passes but is not cheaper"
                             : (c.gates_passed ? "over --max-size: undone" : "fails: undone");
        }
    }
    result_.stopped += "; refining tried every one-rung move from the best config worth trying";
}

void Tuner::check_holdout() {
    if (!result_.best) return;
    if (progress_.start) progress_.start("FP32 (held-out texts)", 0);
    // recall@K falls as a corpus grows (more near neighbours to confuse), so the held-out
    // part is measured at the size the search was.
    EvalInputs holdout = inputs_.holdout;
    if (options_.search_samples > 0 && holdout.selection.limit == 0)
        holdout.selection.limit = options_.search_samples;
    TrialRunner runner(inputs_.search.model, holdout, eval_options_, options_.gates,
                       load_search_calibration(inputs_.search, candidates_), progress_.update);
    // The best config first; if it fails there, the next best that passed the search.
    std::vector<size_t> order;
    for (size_t i = 0; i < result_.candidates.size(); ++i)
        if (result_.candidates[i].passed) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return result_.candidates[a].predicted_cost < result_.candidates[b].predicted_cost;
    });
    if (order.size() > 3) order.resize(3);
    for (const size_t i : order) {
        if (progress_.start) progress_.start("held-out check of step " + std::to_string(i + 1), runner.texts());
        const Trial trial = runner.run(result_.candidates[i].config, progress_.update);
        result_.best = i;
        result_.holdout = trial.result;
        result_.holdout_verdicts = trial.verdicts;
        const double ratio =
            static_cast<double>(trial.bytes) / static_cast<double>(runner.fp32_bytes());
        result_.holdout_passed =
            trial.passed() && (!options_.max_size || ratio <= *options_.max_size);
        result_.holdout_texts = static_cast<int64_t>(runner.texts());
        result_.holdout_checked.push_back({result_.candidates[i].step, result_.holdout_passed});
        if (result_.holdout_passed) return;
        spdlog::warn("step {} passed the search texts but fails on the held-out texts", i + 1);
    }
}

TuneResult Tuner::run() {
    check_options();
    candidates_ = candidate_schemes(inputs_.search.schemes);
    for (const char* safe : {"fp16", "fp32"}) {
        const bool named = std::any_of(candidates_.begin(), candidates_.end(),
                                       [&](const Candidate& c) { return c.name == safe; });
        if (named) continue;
        Candidate c;
        c.name = safe;
        c.scheme = find_scheme(safe);
        safe_.push_back(std::move(c));
    }
    result_.options = options_;

    // 1. Sensitivity of each layer alone, on a subset of the search texts.
    SensitivityOptions sens;
    sens.samples = options_.sensitivity_samples;
    sens.rank_by = steering_.front().gate->metric;
    for (size_t i = 1; i < steering_.size(); ++i) sens.also_measure.push_back(steering_[i].gate->metric);
    sens.groups = {false, false, false, {}};
    result_.sensitivity = run_sensitivity(inputs_.search, sens, eval_options_, progress_);

    // 2-4. The search, verified on the search texts.
    EvalInputs search = inputs_.search.eval;
    if (options_.search_samples > 0) search.selection.limit = options_.search_samples;
    if (progress_.start) progress_.start("FP32 (search texts)", 0);
    runner_ = std::make_unique<TrialRunner>(inputs_.search.model, search, eval_options_,
                                            options_.gates,
                                            load_search_calibration(inputs_.search, candidates_),
                                            progress_.update);
    result_.fp32_bytes = runner_->fp32_bytes();
    result_.search_texts = static_cast<int64_t>(runner_->texts());
    build_ladders(runner_->inventory());
    search_lambda();
    refine();

    // The frontier on the first steering metric: no other candidate is at most as large
    // with at least as much agreement, and better in one.
    const std::string metric = steering_.front().gate->metric;
    for (auto& c : result_.candidates) {
        const double v = c.metrics.get(metric).value_or(-1e9);
        c.frontier = true;
        for (const auto& d : result_.candidates) {
            const double w = d.metrics.get(metric).value_or(-1e9);
            if (d.bytes <= c.bytes && w >= v && (d.bytes < c.bytes || w > v)) c.frontier = false;
        }
    }
    // 5. The held-out texts.
    check_holdout();

    result_.seconds = seconds_since(t0_);
    return std::move(result_);
}

}  // namespace

const char* to_string(TuneObjective objective) noexcept {
    return objective == TuneObjective::Size ? "size" : "speed";
}

TuneResult run_tune(const TuneInputs& inputs, const TuneOptions& options,
                    const EvalOptions& eval_options, const SearchProgress& progress) {
    Tuner tuner(inputs, options, eval_options, progress);
    return tuner.run();
}

}  // namespace embq
