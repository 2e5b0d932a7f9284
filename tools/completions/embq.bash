# bash completion for embq. The commands, each command's options and the preset names are
# read from the installed embq itself (`embq --help`, `embq help COMMAND`, `embq configs`),
# so they never go stale; everything else completes as file names.
_embq() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cmd="" i
  # The command is the first word that is neither an option nor a global option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --threads | --log-level) ((i++)) ;;
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $prev in
    --log-level) mapfile -t COMPREPLY < <(compgen -W "trace debug info warn error off" -- "$cur"); return ;;
    --threads) return ;;
    --target) mapfile -t COMPREPLY < <(compgen -W "native x86-64 x86-64-v4 arm64 mobile" -- "$cur"); return ;;
  esac
  local words
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      words=$(embq --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
    else
      words=$(embq --help 2>/dev/null | sed -n '/^Subcommands:/,$p' | awk '/^  [a-z]/ {print $1}')
    fi
  elif [[ $cur == -* ]]; then
    words=$(embq help "$cmd" 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  else
    case $cmd in
      plan | quantize | compare | finetune)
        # A config argument may be a preset's name; files complete too (-o default).
        words=$(embq configs 2>/dev/null | awk 'NR > 2 {print $1}') ;;
      help) words=$(embq --help 2>/dev/null | sed -n '/^Subcommands:/,$p' | awk '/^  [a-z]/ {print $1}') ;;
    esac
  fi
  mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -o default -F _embq embq
