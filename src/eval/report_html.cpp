// The HTML forms of the eval and compare reports: one self-contained file (inline CSS and
// SVG, no script, nothing fetched), with the plots people would rather look at than read.
#include <algorithm>
#include <cmath>
#include <map>

#include "embq/compare.hpp"
#include "embq/format.hpp"
#include "embq/report.hpp"
#include "embq/stored_layers.hpp"
#include "eval/html_page.hpp"
#include "eval/report_parts.hpp"
#include "eval/svg_chart.hpp"

namespace embq {

namespace {

// The metrics named NAME@K for every K, in K order, as one line each.
std::vector<ChartSeries> recall_series(const EvalResult& result) {
    std::vector<ChartSeries> out;
    for (const char* name : {"recall", "eps_recall", "cross_recall"}) {
        ChartSeries series{std::string(name) + "@K", {}};
        for (const int64_t k : result.options.ks) {
            const std::string metric = std::string(name) + "@" + std::to_string(k);
            if (const auto v = result.metrics.get(metric))
                series.points.push_back(
                    {static_cast<double>(k), *v, metric + " = " + format_metric(*v)});
        }
        if (!series.points.empty()) out.push_back(std::move(series));
    }
    return out;
}

// Bytes by scheme: what the layers of each scheme took in FP32 and what they store now.
std::string size_by_scheme_chart(const StoredModel& stored) {
    std::vector<std::string> schemes;
    std::map<std::string, std::pair<double, double>> bytes;  // scheme -> (source, stored)
    for (const auto& l : stored.layers) {
        if (!bytes.count(l.scheme)) schemes.push_back(l.scheme);
        bytes[l.scheme].first += static_cast<double>(l.source_bytes) / 1024;
        bytes[l.scheme].second += static_cast<double>(l.stored_bytes) / 1024;
    }
    schemes.push_back("kept (not quantizable)");
    bytes[schemes.back()] = {static_cast<double>(stored.kept_bytes) / 1024,
                             static_cast<double>(stored.kept_bytes) / 1024};
    StackedBar source{"FP32", {}}, now{"stored", {}};
    for (const auto& s : schemes) {
        source.segments.push_back(bytes[s].first);
        now.segments.push_back(bytes[s].second);
    }
    return stacked_bars_svg(
        {"Size by scheme: the layers each scheme holds, before and after", "KiB", ""}, schemes,
        {source, now});
}

std::string stored_layers_table(const StoredModel& stored) {
    std::vector<std::vector<std::string>> cells = {
        {"layer", "kind", "stored as", "FP32 bytes", "stored bytes", "of FP32"}};
    for (const auto& l : stored.layers)
        cells.push_back({l.path, to_string(l.kind), l.scheme, format_bytes(l.source_bytes),
                         format_bytes(l.stored_bytes),
                         format_percent(static_cast<double>(l.stored_bytes),
                                        static_cast<double>(l.source_bytes))});
    return html_details("Every layer (" + std::to_string(stored.layers.size()) + ")",
                        html_table(cells));
}

}  // namespace

std::string eval_report_html(const EvalReport& r, const StoredModel* candidate) {
    const EvalResult& res = r.result;
    std::string body = "<h1>embq eval " +
                       html_verdict_badge(r.verdicts.size(), failed_gates(r.verdicts)) +
                       "</h1>\n<p>" + xml_escape(eval_headline(r, "")) + "</p>\n";
    if (!r.verdicts.empty()) body += "<h2>Gates</h2>\n" + html_gates_table(r.verdicts);

    body += "<h2>Agreement with the baseline</h2>\n<div class=\"charts\">\n";
    const auto cosine = res.per_item.find("cosine");
    if (cosine != res.per_item.end())
        body +=
            histogram_svg({"Cosine of each corpus row's candidate vector to its baseline vector",
                           "cosine", "rows"},
                          cosine->second, 40);
    const auto series = recall_series(res);
    if (!series.empty())
        body += line_chart_svg({"Neighbours kept: recall@K against K", "K", "recall"}, series);
    body += "</div>\n";
    if (candidate) {
        body += "<h2>Size</h2>\n<div class=\"charts\">\n" + size_by_scheme_chart(*candidate) +
                "</div>\n" + stored_layers_table(*candidate);
    }

    std::vector<std::vector<std::string>> metrics = {{"metric", "value"}};
    for (const auto& [name, value] : res.metrics.all())
        metrics.push_back({name, format_metric(value)});
    body += "<h2>Metrics</h2>\n" +
            html_details("All " + std::to_string(metrics.size() - 1) + " metrics",
                         html_table(metrics), true);
    if (!res.from_vectors)
        body += "<p>Throughput measured side by side in this run: baseline " +
                format_metric(res.baseline_texts_per_second, 1) + " texts/s, candidate " +
                format_metric(res.candidate_texts_per_second, 1) + " texts/s (" +
                std::to_string(r.threads) + " threads).</p>\n";
    return html_page("embq eval: " + r.inputs.candidate.filename().string(), body);
}

std::string compare_report_html(const CompareResult& result) {
    std::string body =
        "<h1>embq compare <span class=\"verdict " +
        std::string(result.all_passed() ? "pass\">all passed" : "fail\">not all passed") +
        "</span></h1>\n<p>" + xml_escape(compare_summary_line(result)) + "</p>\n";

    const auto cells = compare_table_cells(result);
    std::map<size_t, std::vector<std::string>> classes;
    for (size_t i = 0; i < result.rows.size(); ++i) {
        const CompareRow& row = result.rows[i];
        const bool ran_without_gates = row.result && row.verdicts.empty();
        std::vector<std::string> row_classes(cells.front().size());
        row_classes.back() = ran_without_gates ? "" : row.passed() ? "pass" : "fail";
        classes[i + 1] = row_classes;
    }
    body += html_table(cells, classes);
    for (const auto& row : result.rows)
        if (!row.error.empty())
            body += "<p class=\"error\"><b>" + xml_escape(row.name) +
                    "</b> failed: " + xml_escape(row.error) + "</p>\n";

    // The frontier: size against recall@10 (else the largest K's recall), each config a point.
    std::vector<ChartPoint> quality, speed;
    std::string recall_name = "recall@10";
    for (const auto& row : result.rows)
        if (row.result && !row.result->metrics.get(recall_name))
            recall_name = "recall@" + std::to_string(row.result->options.ks.back());
    std::vector<StackedBar> sizes;
    std::vector<std::string> schemes;
    for (const auto& row : result.rows) {
        if (row.result) {
            const double size = row.result->metrics.get("size_ratio").value_or(NAN) * 100;
            quality.push_back({size, row.result->metrics.get(recall_name).value_or(NAN), row.name});
            speed.push_back(
                {size, row.result->metrics.get("throughput_ratio").value_or(NAN), row.name});
        }
        if (!row.plan) continue;
        std::map<std::string, double> kib;
        for (const auto& l : row.plan->layers) {
            const std::string name(l.scheme->name());
            if (std::find(schemes.begin(), schemes.end(), name) == schemes.end())
                schemes.push_back(name);
            kib[name] += static_cast<double>(l.bytes_after) / 1024;
        }
        StackedBar bar{row.name, {}};
        for (const auto& s : schemes) bar.segments.push_back(kib[s]);
        sizes.push_back(std::move(bar));
    }
    for (auto& bar : sizes) bar.segments.resize(schemes.size(), 0);
    body += "<h2>Size, quality and speed</h2>\n<div class=\"charts\">\n";
    body +=
        scatter_svg({"Size against " + recall_name + " (dashed: the configs nothing beats on both)",
                     "size, % of FP32", recall_name},
                    quality, true);
    body += scatter_svg({"Size against speed (texts/s vs FP32, measured one model after another)",
                         "size, % of FP32", "texts/s vs FP32"},
                        speed, false);
    if (!sizes.empty())
        body += stacked_bars_svg(
            {"Planned bytes by scheme (layers; kept modules not shown)", "KiB", ""}, schemes,
            sizes);
    body += "</div>\n";

    for (const auto& [title, diffs] : compare_differences(result)) {
        if (diffs.empty()) continue;
        const auto arrow = title.find(" -> ");
        std::vector<std::vector<std::string>> rows = {
            {"layer", title.substr(0, arrow), title.substr(arrow + 4)}};
        for (const auto& d : diffs) rows.push_back({d.layer, d.first, d.second});
        body += html_details(
            "Layers planned differently, " + title + ": " + std::to_string(diffs.size()),
            html_table(rows));
    }
    return html_page("embq compare", body);
}

}  // namespace embq
