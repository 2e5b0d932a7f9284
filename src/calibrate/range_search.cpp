// Clip ranges chosen over a histogram: percentile, least squared error, least KL
// divergence (entropy). Written once; the observers only pick one.
#include "embq/observers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "embq/error.hpp"

namespace embq {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

}  // namespace

// ---------------------------------------------------------------------------------------
// ClipRange choices over a histogram

ClipRange percentile_range(const Histogram& hist, double percentile) {
    EMBQ_ASSERT(!hist.empty() && percentile > 50.0 && percentile <= 100.0);
    const double tail = (100.0 - percentile) / 100.0;
    return {hist.quantile(tail), hist.quantile(1.0 - tail)};
}

namespace {

// E[x^2] for x uniform on [j, j + 1].
double bin_second_moment(double j) { return (j * j + j * (j + 1.0) + (j + 1.0) * (j + 1.0)) / 3.0; }

// Clipping error of every lower edge a (in bins from `first`): sum over bins below a of
// count * E[(a - x)^2] = a^2 C - 2 a M + S, with C, M, S the count, first and second moment
// of those bins (accumulated from the left, so a few clipped bins are summed precisely).
std::vector<double> clipping_error_below(const std::vector<double>& counts) {
    const size_t n = counts.size();
    std::vector<double> error(n + 1, 0.0);
    double c = 0.0, m = 0.0, s = 0.0;
    for (size_t a = 0; a <= n; ++a) {
        const double x = static_cast<double>(a);
        error[a] = x * x * c - 2.0 * x * m + s;
        if (a < n) {
            c += counts[a];
            m += counts[a] * (x + 0.5);
            s += counts[a] * bin_second_moment(x);
        }
    }
    return error;
}

// The same for every upper edge b: bins at or above b clipped down to b (from the right).
std::vector<double> clipping_error_above(const std::vector<double>& counts) {
    const size_t n = counts.size();
    std::vector<double> error(n + 1, 0.0);
    double c = 0.0, m = 0.0, s = 0.0;
    for (size_t b = n + 1; b-- > 0;) {
        const double x = static_cast<double>(b);
        error[b] = s - 2.0 * x * m + x * x * c;
        if (b > 0) {
            const double j = x - 1.0;
            c += counts[b - 1];
            m += counts[b - 1] * (j + 0.5);
            s += counts[b - 1] * bin_second_moment(j);
        }
    }
    return error;
}

std::vector<double> occupied_counts(const Histogram& hist, size_t begin, size_t end) {
    return std::vector<double>(hist.counts().begin() + static_cast<std::ptrdiff_t>(begin),
                               hist.counts().begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace

ClipRange mse_range(const Histogram& hist, int levels) {
    EMBQ_ASSERT(!hist.empty() && levels >= 2);
    const size_t first = hist.used_begin(), end = hist.used_end();
    const std::vector<double> counts = occupied_counts(hist, first, end);
    const size_t n = counts.size();

    const std::vector<double> below = clipping_error_below(counts);
    const std::vector<double> above = clipping_error_above(counts);
    std::vector<double> count_below(n + 1, 0.0), count_above(n + 1, 0.0);
    for (size_t i = 0; i < n; ++i) count_below[i + 1] = count_below[i] + counts[i];
    for (size_t i = n; i-- > 0;) count_above[i] = count_above[i + 1] + counts[i];
    const double total = count_below[n];
    const double rounding = 1.0 / (12.0 * (levels - 1.0) * (levels - 1.0));  // step^2/12 per span^2

    double best = kInfinity;
    size_t best_a = 0, best_b = n;
    for (size_t a = 0; a < n; ++a) {
        for (size_t b = a + 1; b <= n; ++b) {
            const double span = static_cast<double>(b - a);
            const double inside = total - count_below[a] - count_above[b];
            const double error = below[a] + above[b] + inside * span * span * rounding;
            if (error < best) {
                best = error;
                best_a = a;
                best_b = b;
            }
        }
    }
    return {hist.edge(first + best_a), hist.edge(first + best_b)};
}

namespace {

// P and Q of one candidate of entropy_threshold() (unnormalised): P is the first `kept`
// bins with the `clipped` count added to the last; Q merges those bins (without the
// clipped count) into `levels` groups and spreads each group over its bins where P > 0.
// Returns the mass of Q.
double candidate_distributions(const std::vector<double>& counts, size_t kept, double clipped,
                               int levels, std::vector<double>& p, std::vector<double>& q) {
    p.assign(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(kept));
    p[kept - 1] += clipped;
    q.assign(kept, 0.0);
    double q_mass = 0.0;
    for (size_t g = 0; g < static_cast<size_t>(levels); ++g) {
        const size_t begin = g * kept / static_cast<size_t>(levels);
        const size_t end = (g + 1) * kept / static_cast<size_t>(levels);
        double group = 0.0;
        size_t nonzero = 0;
        for (size_t j = begin; j < end; ++j) {
            group += counts[j];
            nonzero += p[j] > 0.0;
        }
        if (nonzero == 0) continue;  // then the group's count is 0 too
        for (size_t j = begin; j < end; ++j)
            q[j] = p[j] > 0.0 ? group / static_cast<double>(nonzero) : 0.0;
        q_mass += group;
    }
    return q_mass;
}

// KL(P || Q) after normalising both, with the 1e-4 smoothing of Q where Q = 0 < P.
double smoothed_divergence(const std::vector<double>& p, const std::vector<double>& q,
                           double q_mass) {
    constexpr double kSmoothing = 1e-4;
    double p_mass = 0.0;
    size_t starved = 0;  // bins where Q = 0 < P
    for (size_t j = 0; j < p.size(); ++j) {
        p_mass += p[j];
        starved += p[j] > 0.0 && q[j] == 0.0;
    }
    const double q_norm = 1.0 + kSmoothing * static_cast<double>(starved);
    double divergence = 0.0;
    for (size_t j = 0; j < p.size(); ++j) {
        if (p[j] == 0.0) continue;
        const double pj = p[j] / p_mass;
        const double qj = (q[j] > 0.0 ? q[j] / q_mass : kSmoothing) / q_norm;
        divergence += pj * std::log(pj / qj);
    }
    return divergence;
}

}  // namespace

double entropy_threshold(const Histogram& abs_hist, int levels) {
    EMBQ_ASSERT(!abs_hist.empty() && levels >= 2);
    const size_t n = abs_hist.used_end();
    const size_t first_candidate = static_cast<size_t>(levels);
    if (n <= first_candidate) return abs_hist.edge(n);

    const std::vector<double> counts = occupied_counts(abs_hist, 0, n);
    std::vector<double> clipped_from(n + 1, 0.0);  // count in bins >= i
    for (size_t i = n; i-- > 0;) clipped_from[i] = clipped_from[i + 1] + counts[i];

    std::vector<double> p, q;  // scratch, reused across candidates
    double best = kInfinity;
    size_t best_kept = n;
    for (size_t kept = first_candidate; kept <= n; ++kept) {
        const double q_mass =
            candidate_distributions(counts, kept, clipped_from[kept], levels, p, q);
        // No mass left in Q (every kept bin empty): infinitely far, as MXNet treats it.
        const double divergence = q_mass > 0.0 ? smoothed_divergence(p, q, q_mass) : kInfinity;
        if (divergence < best) {
            best = divergence;
            best_kept = kept;
        }
    }
    return abs_hist.edge(best_kept);
}

}  // namespace embq
