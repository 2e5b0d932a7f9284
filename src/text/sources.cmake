# Tokenizer sources (owned by the text unit); included by the top-level CMakeLists.txt.
set(EMBQ_TEXT_SOURCES
  src/text/added_tokens.cpp
  src/text/load_context.cpp
  src/text/model_unigram.cpp
  src/text/model_wordlevel.cpp
  src/text/model_wordpiece.cpp
  src/text/normalizers.cpp
  src/text/post_processors.cpp
  src/text/pre_tokenizers.cpp
  src/text/tokenizer.cpp
  src/text/unicode.cpp
  src/text/unicode_tables.cpp
)
