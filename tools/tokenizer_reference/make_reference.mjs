// Reference token ids for embq's tokenizer tests, from two implementations no one here
// wrote:
//   - `tokenizers` (npm): Hugging Face's own Rust tokenizers, the implementation that
//     defines tokenizer.json, through its Node binding (the binary ships in the package);
//   - `@xenova/transformers` (npm): transformers.js, a pure-JavaScript reimplementation.
// The tests assert embq's ids equal the Hugging Face ids; the transformers.js ids are kept
// beside them (`references_agree` says where the two agree; transformers.js 2.17.2 differs
// where it lacks a feature: byte fallback, NFD, CharDelimiterSplit, Metaspace files without
// add_prefix_space, CJK padding above U+FFFF, a Unicode \w, HF's added-token ids).
//
//   cd tools/tokenizer_reference && npm ci --ignore-scripts
//   python3 make_fixtures.py            # the fixture tokenizers and sentences
//   node make_reference.mjs --sentences ../../tests/data/tokenizer/sentences.json \
//        --out ../../tests/data/tokenizer/reference.json ../../tests/data/tokenizer/*.json
//
// (files named sentences.json or reference.json among the inputs are skipped).
// probe_unicode.mjs, beside this file, measures HF's Unicode classes for the generator of
// src/embed/text/unicode_tables.cpp.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const hf = require('tokenizers');
const { PreTrainedTokenizer } = await import('@xenova/transformers/src/tokenizers.js');

function usage(msg) {
    if (msg) console.error(`make_reference: ${msg}`);
    console.error('usage: node make_reference.mjs --sentences FILE --out FILE [--truncate N] tokenizer.json...');
    process.exit(2);
}

const args = process.argv.slice(2);
let sentencesPath = null;
let outPath = null;
let truncate = 8;
const tokenizerPaths = [];
for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--sentences') sentencesPath = args[++i];
    else if (args[i] === '--out') outPath = args[++i];
    else if (args[i] === '--truncate') truncate = Number(args[++i]);
    else if (args[i].startsWith('--')) usage(`unknown option ${args[i]}`);
    else tokenizerPaths.push(args[i]);
}
if (!sentencesPath || !outPath || tokenizerPaths.length === 0) usage();
if (!Number.isInteger(truncate) || truncate < 3) usage('--truncate must be an integer >= 3');

const sentences = JSON.parse(fs.readFileSync(sentencesPath, 'utf8'));
const pkg = (name) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;

function versionOf(name) {
    try {
        return pkg(name);
    } catch {
        // Packages whose "exports" hide package.json: find it beside the resolved entry.
        let dir = path.dirname(require.resolve(name));
        while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
        return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    }
}

// transformers.js reads some special tokens from tokenizer_config.json; derive them from
// the tokenizer.json so both references see the same tokenizer.
function transformersConfig(json) {
    const model = json.model ?? {};
    let unk = model.unk_token;
    if (unk === undefined && Array.isArray(model.vocab) && model.unk_id != null) unk = model.vocab[model.unk_id][0];
    const names = new Set((json.added_tokens ?? []).map((t) => t.content));
    const pick = (...c) => c.find((x) => names.has(x)) ?? null;
    return {
        unk_token: unk ?? null,
        eos_token: pick('</s>', '[SEP]'),
        bos_token: pick('<s>', '[CLS]'),
        pad_token: pick('<pad>', '[PAD]'),
        model_max_length: 1e9,
    };
}

const result = {
    generated_by: 'tools/tokenizer_reference/make_reference.mjs',
    references: {
        tokenizers: versionOf('tokenizers'),
        '@xenova/transformers': versionOf('@xenova/transformers'),
    },
    truncate_max_length: truncate,
    tokenizers: {},
};

for (const file of tokenizerPaths) {
    const name = path.basename(file);
    if (name === 'sentences.json' || name === 'reference.json') continue;
    const text = fs.readFileSync(file, 'utf8');
    const json = JSON.parse(text);

    const full = hf.Tokenizer.fromString(text);
    const cut = hf.Tokenizer.fromString(text);
    // The file's truncation direction stays; only the length changes.
    cut.setTruncation(truncate, { direction: (json.truncation?.direction ?? 'Right').toLowerCase() });

    let js = null;
    let jsError = null;
    try {
        js = new PreTrainedTokenizer(json, transformersConfig(json));
    } catch (e) {
        jsError = String(e.message ?? e);
    }

    const cases = [];
    let agree = 0;
    for (const sentence of sentences) {
        const enc = await full.encode(sentence);
        const encCut = await cut.encode(sentence);
        const c = {
            text: sentence,
            ids: enc.getIds(),
            type_ids: enc.getTypeIds(),
            tokens: enc.getTokens(),
            truncated_ids: encCut.getIds(),
        };
        if (js) {
            try {
                const out = js(sentence, { return_tensor: false, return_token_type_ids: true });
                c.transformers_js_ids = Array.from(out.input_ids, Number);
            } catch (e) {
                c.transformers_js_ids = null;
                c.transformers_js_error = String(e.message ?? e);
            }
        } else {
            c.transformers_js_ids = null;
        }
        c.references_agree = JSON.stringify(c.transformers_js_ids) === JSON.stringify(c.ids);
        if (c.references_agree) ++agree;
        cases.push(c);
    }
    result.tokenizers[name] = {
        transformers_js_error: jsError,
        references_agree: agree,
        cases,
    };
    console.log(`${name}: ${cases.length} sentences, transformers.js agrees with tokenizers on ${agree}` +
        (jsError ? ` (transformers.js cannot load it: ${jsError})` : ''));
}

// One case per line: reviewable diffs, a file a fraction of the fully indented size.
const lines = ['{'];
lines.push(`"generated_by": ${JSON.stringify(result.generated_by)},`);
lines.push(`"references": ${JSON.stringify(result.references)},`);
lines.push(`"truncate_max_length": ${truncate},`);
lines.push('"tokenizers": {');
const names = Object.keys(result.tokenizers);
names.forEach((name, i) => {
    const t = result.tokenizers[name];
    lines.push(`${JSON.stringify(name)}: {"transformers_js_error": ${JSON.stringify(t.transformers_js_error)}, ` +
        `"references_agree": ${t.references_agree}, "cases": [`);
    t.cases.forEach((c, j) => lines.push(JSON.stringify(c) + (j + 1 < t.cases.length ? ',' : '')));
    lines.push(']}' + (i + 1 < names.length ? ',' : ''));
});
lines.push('}}');
fs.writeFileSync(outPath, lines.join('\n') + '\n');
console.log(`wrote ${outPath}`);
