# bash completion for acmectl. Generated from the command tree; install it as
# /usr/share/bash-completion/completions/acmectl or source it: eval "$(acmectl completion bash)"
_acmectl() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i word
  local global_options="--version --config --store --server --ca-bundle --json --quiet --verbose --no-color"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    case "$word" in
      --ca-bundle|--challenge|--concurrency|--config|--current-email|--days|--deploy-hook|--eab-hmac-key|--eab-kid|--email|--expiring|--format|--from|--hook-timeout|--http-address|--http-port|--key-type|--name|--order-timeout|--out|--output|--password-file|--post-hook|--pre-hook|--preferred-chain|--profile|--reason|--request-timeout|--server|--store|--to|--version|--webroot) ((i++)) ;;
      -*) ;;
      *)
        # a word extends the command path only when it names a subcommand; else it is an argument
        case "${path:+$path }$word" in
          'issue'|'renew'|'list'|'ls'|'show'|'serve'|'export'|'revoke'|'delete'|'store'|'store copy'|'config'|'config show'|'config check'|'ca'|'account'|'account register'|'account list'|'account show'|'account update'|'account rollover'|'account deactivate'|'completion') path="${path:+$path }$word" ;;
        esac ;;
    esac
  done
  case "$prev" in
    --ca-bundle|--config|--out|--output|--password-file|--webroot) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --challenge) COMPREPLY=($(compgen -W "standalone webroot store" -- "$cur")); return ;;
    --key-type) COMPREPLY=($(compgen -W "ec256 ec384 rsa2048 rsa3072 rsa4096" -- "$cur")); return ;;
    --reason) COMPREPLY=($(compgen -W "unspecified keyCompromise affiliationChanged superseded cessationOfOperation" -- "$cur")); return ;;
    --concurrency|--current-email|--days|--deploy-hook|--eab-hmac-key|--eab-kid|--email|--expiring|--format|--from|--hook-timeout|--http-address|--http-port|--name|--order-timeout|--post-hook|--pre-hook|--preferred-chain|--profile|--request-timeout|--server|--store|--to|--version) return ;;
  esac
  local words
  case "$path" in
    '') words="issue renew list ls show serve export revoke delete store config ca account completion" ;;
    'issue') words="--name --standalone --webroot --challenge --http-port --http-address --key-type --profile --preferred-chain --email --agree-tos --eab-kid --eab-hmac-key --out --format --password-file --pre-hook --post-hook --deploy-hook --hook-timeout --force --dry-run --run-deploy-hooks --request-timeout --order-timeout" ;;
    'renew') words="--days --force --concurrency --random-sleep --no-random-sleep --dry-run --run-deploy-hooks --pre-hook --post-hook --deploy-hook --hook-timeout --request-timeout --order-timeout" ;;
    'list') words="--expiring --format --output" ;;
    'ls') words="--expiring --format --output" ;;
    'show') words="--pem" ;;
    'serve') words="--http-port --http-address" ;;
    'export') words="--out --format --password-file" ;;
    'revoke') words="--reason --delete" ;;
    'delete') words="--files" ;;
    'store') words="copy" ;;
    'store copy') words="--from --to --overwrite" ;;
    'config') words="show check" ;;
    'config show') words="" ;;
    'config check') words="" ;;
    'ca') words="" ;;
    'account') words="register list show update rollover deactivate" ;;
    'account register') words="--email --agree-tos --eab-kid --eab-hmac-key --request-timeout" ;;
    'account list') words="" ;;
    'account show') words="--email --request-timeout" ;;
    'account update') words="--email --no-email --current-email --request-timeout" ;;
    'account rollover') words="--email --request-timeout" ;;
    'account deactivate') words="--email --yes --request-timeout" ;;
    'completion') words="bash zsh fish" ;;
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words $global_options" -- "$cur"))
}
complete -F _acmectl acmectl
