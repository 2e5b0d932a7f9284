// The CI templates under tools/ci/ as their CI systems run them: the gate's shell, taken
// from the YAML, under bash -eo pipefail (GitHub's `shell: bash`, GitLab's generated
// script). The job must exit with embq's code (1 when a gate fails, 2 for a missing
// model) and still write its report and summary: the case a plain `status=$?` loses.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;
using test::fixture;

fs::path template_path(const std::string& name) {
    return fs::path(EMBQ_SOURCE_DIR) / "tools" / "ci" / name;
}

// The template read with PyYAML: {"script": the gate's shell, "env": its variables, and
// what the template promises about reports}.
nlohmann::json read_template(const fs::path& yml, const fs::path& out) {
    const std::string program = R"PY(
import json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
if 'jobs' in doc:  # GitHub Actions
    job = doc['jobs']['gate']
    gate = [s for s in job['steps'] if s.get('name') == 'Quality gate'][0]
    upload = [s for s in job['steps'] if 'upload-artifact' in s.get('uses', '')][0]
    out = {'script': gate['run'], 'env': job['env'], 'shell': gate['shell'],
           'reports_always': upload.get('if') == 'always()'}
else:  # GitLab CI
    job = doc['embq-gate']
    out = {'script': '\n'.join(job['script']), 'env': job['variables'],
           'reports_always': job['artifacts']['when'] == 'always',
           'junit': job['artifacts']['reports']['junit']}
json.dump(out, open(sys.argv[2], 'w'))
)PY";
    const fs::path py = out.parent_path() / "read_template.py";
    test::write_file(py, program);
    const std::string cmd = std::string(EMBQ_TORCH_PYTHON) + " " + py.string() + " " +
                            yml.string() + " " + out.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return nlohmann::json::parse(test::read_file(out));
}

struct Job {
    int exit_code = -1;
    std::string summary;  // $GITHUB_STEP_SUMMARY afterwards
    std::string log;
};

// Runs `script` in `dir` under bash -eo pipefail with the template's variables, `paths`
// overriding them.
Job run_job(const fs::path& dir, const nlohmann::json& tmpl,
            const std::map<std::string, std::string>& paths) {
    test::write_file(dir / "gate.sh", tmpl["script"].get<std::string>());
    std::map<std::string, std::string> env;
    for (const auto& [name, value] : tmpl["env"].items()) env[name] = value.get<std::string>();
    for (const auto& [name, value] : paths) env[name] = value;
    env["GITHUB_STEP_SUMMARY"] = (dir / "summary.md").string();
    std::string cmd = "cd '" + dir.string() + "' && env";
    for (const auto& [name, value] : env) cmd += " '" + name + "=" + value + "'";
    cmd += " bash --noprofile --norc -eo pipefail gate.sh > log.txt 2>&1";
    const int status = std::system(cmd.c_str());
    Job job;
    job.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (fs::exists(dir / "summary.md")) job.summary = test::read_file(dir / "summary.md");
    job.log = test::read_file(dir / "log.txt");
    return job;
}

class CiTemplatesCli : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        test::write_file(dir_ / "corpus.txt", test::fixture_sentences(150, 11));
        test::write_file(dir_ / "card.json",
                         nlohmann::json{{"tokenizer", fixture("vocab.txt").string()}}.dump());
        // A candidate that fails the template's gates: 4-bit weights everywhere.
        test::write_file(dir_ / "int4.json",
                         R"({"defaults": {"linear": {"scheme": "int4_weight"}}})");
        const auto q =
            test::run_embq({"quantize", fixture("bert_traced.pt").string(),
                            (dir_ / "int4.json").string(), "-o", (dir_ / "int4.pt").string()});
        ASSERT_EQ(q.exit_code, kExitOk) << q.err;
        tmpl_ = read_template(template_path(GetParam()), dir_ / "template.json");
    }
    std::map<std::string, std::string> paths(const fs::path& candidate) const {
        return {{"EMBQ", EMBQ_BINARY},
                {"BASELINE", fixture("bert_traced.pt").string()},
                {"CANDIDATE", candidate.string()},
                {"CARD", (dir_ / "card.json").string()},
                {"CORPUS", (dir_ / "corpus.txt").string()}};
    }
    Job run(const std::string& name, const fs::path& candidate) {
        const fs::path job_dir = dir_ / name;
        fs::create_directories(job_dir);
        return run_job(job_dir, tmpl_, paths(candidate));
    }
    test::TempDir dir_;
    nlohmann::json tmpl_;
};

TEST_P(CiTemplatesCli, TheJobExitsWithTheGatesCodeAndStillWritesItsReports) {
    EXPECT_TRUE(tmpl_["reports_always"].get<bool>()) << "reports must be kept when the gate fails";
    const std::string report_dir = tmpl_["env"]["REPORT_DIR"].get<std::string>();
    if (tmpl_.contains("junit")) {
        EXPECT_EQ(tmpl_["junit"].get<std::string>(), report_dir + "/junit.xml");
    }
    const bool github = tmpl_.contains("shell");

    // The same weights: the gates pass.
    const Job pass = run("pass", fixture("bert_scripted.pt"));
    EXPECT_EQ(pass.exit_code, kExitOk) << pass.log;
    EXPECT_TRUE(fs::exists(dir_ / "pass" / report_dir / "junit.xml")) << pass.log;
    if (github) {
        test::expect_contains(pass.summary, {"## embq eval: ✅ passed"});
    }

    // 4-bit weights: a gate fails; the job fails with 1 and the report is still there.
    const Job fail = run("fail", dir_ / "int4.pt");
    EXPECT_EQ(fail.exit_code, kExitGateFailed) << fail.log;
    EXPECT_TRUE(fs::exists(dir_ / "fail" / report_dir / "report.json")) << fail.log;
    EXPECT_TRUE(fs::exists(dir_ / "fail" / report_dir / "junit.xml")) << fail.log;
    // GitHub shows the report as the job summary, GitLab in the job's log.
    test::expect_contains(github ? fail.summary : fail.log, {"## embq eval: ❌ failed"});

    // A missing candidate: embq's usage code, and the summary says why there is no report.
    const Job broken = run("broken", dir_ / "missing.pt");
    EXPECT_EQ(broken.exit_code, kExitBadInput) << broken.log;
    test::expect_contains(broken.log, {"missing.pt"});
    if (github) {
        test::expect_contains(broken.summary, {"exited with 2 before it wrote a report"});
    }
}

INSTANTIATE_TEST_SUITE_P(Templates, CiTemplatesCli,
                         ::testing::Values("github-actions.yml", "gitlab-ci.yml"),
                         [](const auto& info) {
                             return info.param.substr(0, info.param.find('-'));
                         });

}  // namespace
}  // namespace embq
