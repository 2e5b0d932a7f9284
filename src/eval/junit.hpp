// JUnit XML as CI systems read it (GitHub's and GitLab's test reports, Jenkins): one
// test suite per evaluated model, one test case per gate. Every case carries what was
// measured in <system-out>, passing ones too, so a report shows how close a pass was.
#pragma once

#include <string>
#include <vector>

#include "embq/gates.hpp"

namespace embq {

struct JunitCase {
    std::string classname, name;
    std::string output;   // <system-out>
    std::string failure;  // not empty: the case failed (a gate below its threshold)
    std::string error;    // not empty: the case could not run (a config that did not quantize)
};

struct JunitSuite {
    std::string name;
    double seconds = 0;
    std::vector<JunitCase> cases;
    std::string output;  // the suite's <system-out>: what was compared with what
};

// One case per verdict: named by the gate as written, its explanation as output, and as
// the failure message when it failed.
std::vector<JunitCase> gate_cases(const std::string& classname,
                                  const std::vector<GateVerdict>& verdicts);

// The document: <testsuites> named `name`, with counts, the total time, the time it was
// written (ISO 8601, UTC) and this machine's host name on every suite.
std::string junit_xml(const std::string& name, const std::vector<JunitSuite>& suites);

}  // namespace embq
