# bash completion for acmectl. Generated from the command tree; install it as
# /usr/share/bash-completion/completions/acmectl or source it: eval "$(acmectl completion bash)"
_acmectl() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i word
  local global_options="--version --config --store --server --ca-bundle --json --quiet --verbose --no-color"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    case "$word" in
      --ca-bundle|--challenge|--config|--eab-hmac-key|--eab-kid|--email|--expiring|--http-address|--http-port|--key-type|--name|--order-timeout|--out|--request-timeout|--server|--store|--webroot) ((i++)) ;;
      -*) ;;
      *) path="${path:+$path }$word" ;;
    esac
  done
  case "$prev" in
    --config|--ca-bundle|--webroot|--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --challenge) COMPREPLY=($(compgen -W "standalone webroot" -- "$cur")); return ;;
    --key-type) COMPREPLY=($(compgen -W "ec256 ec384 rsa2048 rsa3072 rsa4096" -- "$cur")); return ;;
    --eab-hmac-key|--eab-kid|--email|--expiring|--http-address|--http-port|--name|--order-timeout|--request-timeout|--server|--store) return ;;
  esac
  local words
  case "$path" in
    '') words="issue list ls show account completion --version --config --store --server --ca-bundle --json --quiet --verbose --no-color" ;;
    'issue') words="--name --standalone --webroot --challenge --http-port --http-address --key-type --email --agree-tos --eab-kid --eab-hmac-key --out --force --request-timeout --order-timeout" ;;
    'list') words="--expiring" ;;
    'ls') words="--expiring" ;;
    'show') words="--pem" ;;
    'account') words="register list" ;;
    'account register') words="--email --agree-tos --eab-kid --eab-hmac-key --request-timeout" ;;
    'account list') words="" ;;
    'completion') words="bash" ;;
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words $global_options" -- "$cur"))
}
complete -F _acmectl acmectl
