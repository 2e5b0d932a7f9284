#include "eval/junit.hpp"

#include "embq/format.hpp"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <ctime>

namespace embq {

namespace {

std::string utc_timestamp() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

std::string seconds_text(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", seconds);
    return buf;
}

struct Counts {
    size_t tests = 0, failures = 0, errors = 0;
    void add(const JunitCase& c) {
        ++tests;
        failures += !c.failure.empty();
        errors += !c.error.empty();
    }
    std::string attributes() const {
        return "tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
               "\" errors=\"" + std::to_string(errors) + "\"";
    }
};

void append_case(std::string& out, const JunitCase& c) {
    out += "    <testcase classname=\"" + xml_escape(c.classname) + "\" name=\"" +
           xml_escape(c.name) + "\" time=\"0\">\n";
    if (!c.error.empty())
        out += "      <error type=\"run\" message=\"" + xml_escape(c.error) + "\"/>\n";
    if (!c.failure.empty())
        out += "      <failure type=\"gate\" message=\"" + xml_escape(c.failure) + "\"/>\n";
    if (!c.output.empty()) out += "      <system-out>" + xml_escape(c.output) + "</system-out>\n";
    out += "    </testcase>\n";
}

}  // namespace

std::vector<JunitCase> gate_cases(const std::string& classname,
                                  const std::vector<GateVerdict>& verdicts) {
    std::vector<JunitCase> cases;
    for (const auto& v : verdicts) {
        JunitCase c{classname, v.gate.text, v.explain(), "", ""};
        if (!v.passed) c.failure = c.output;
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string junit_xml(const std::string& name, const std::vector<JunitSuite>& suites) {
    const std::string timestamp = utc_timestamp(), host = host_name();
    Counts total;
    double seconds = 0;
    std::string body;
    for (const auto& suite : suites) {
        Counts counts;
        for (const auto& c : suite.cases) {
            counts.add(c);
            total.add(c);
        }
        seconds += suite.seconds;
        body += "  <testsuite name=\"" + xml_escape(suite.name) + "\" " + counts.attributes() +
                " skipped=\"0\" time=\"" + seconds_text(suite.seconds) + "\" timestamp=\"" +
                timestamp + "\" hostname=\"" + xml_escape(host) + "\">\n";
        for (const auto& c : suite.cases) append_case(body, c);
        if (!suite.output.empty())
            body += "    <system-out>" + xml_escape(suite.output) + "</system-out>\n";
        body += "  </testsuite>\n";
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" + xml_escape(name) +
           "\" " + total.attributes() + " time=\"" + seconds_text(seconds) + "\">\n" + body +
           "</testsuites>\n";
}

}  // namespace embq
