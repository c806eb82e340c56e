# bash completion for acmectl. Generated from the command tree; install it as
# /usr/share/bash-completion/completions/acmectl or source it: eval "$(acmectl completion bash)"
_acmectl() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i word arguments=0 names=""
  local global_options="--version --config --store --server --ca-bundle --json --quiet --verbose --no-color"
  local -a store_options=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    case "$word" in
      --config|--store) store_options+=("$word" "${COMP_WORDS[i+1]}"); ((i++)) ;;
      --ca-bundle|--challenge|--concurrency|--config|--current-email|--days|--deploy-hook|--eab-hmac-key|--eab-kid|--email|--expiring|--failure-hook|--format|--from|--hook-timeout|--http-address|--http-port|--key-group|--key-mode|--key-type|--name|--order-timeout|--out|--output|--password-file|--post-hook|--pre-hook|--preferred-chain|--profile|--reason|--request-timeout|--root|--server|--store|--to|--version|--webroot) ((i++)) ;;
      -*) ;;
      *)
        # a word extends the command path only when it names a subcommand; else it is an argument
        case "${path:+$path }$word" in
          'issue'|'renew'|'list'|'ls'|'show'|'serve'|'export'|'revoke'|'delete'|'store'|'store copy'|'import'|'import certbot'|'config'|'config show'|'config check'|'doctor'|'ca'|'account'|'account register'|'account list'|'account show'|'account update'|'account rollover'|'account deactivate'|'schedule'|'schedule install'|'schedule status'|'schedule remove'|'completion') path="${path:+$path }$word" ;;
          *) arguments=$((arguments + 1)) ;;
        esac ;;
    esac
  done
  case "$prev" in
    --ca-bundle|--config|--out|--output|--password-file|--webroot) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --challenge) COMPREPLY=($(compgen -W "standalone webroot store" -- "$cur")); return ;;
    --key-type) COMPREPLY=($(compgen -W "ec256 ec384 rsa2048 rsa3072 rsa4096" -- "$cur")); return ;;
    --reason) COMPREPLY=($(compgen -W "unspecified keyCompromise affiliationChanged superseded cessationOfOperation" -- "$cur")); return ;;
    --concurrency|--current-email|--days|--deploy-hook|--eab-hmac-key|--eab-kid|--email|--expiring|--failure-hook|--format|--from|--hook-timeout|--http-address|--http-port|--key-group|--key-mode|--name|--order-timeout|--post-hook|--pre-hook|--preferred-chain|--profile|--request-timeout|--root|--server|--store|--to|--version) return ;;
  esac
  local words
  case "$path" in
    '') words="issue renew list ls show serve export revoke delete store import config doctor ca account schedule completion" ;;
    'issue') words="--name --standalone --webroot --challenge --http-port --http-address --no-preflight --key-type --profile --preferred-chain --email --agree-tos --eab-kid --eab-hmac-key --out --format --password-file --key-group --key-mode --pre-hook --post-hook --deploy-hook --failure-hook --hook-timeout --force --dry-run --run-deploy-hooks --request-timeout --order-timeout" ;;
    'renew') words="--days --force --concurrency --random-sleep --no-random-sleep --no-preflight --dry-run --run-deploy-hooks --pre-hook --post-hook --deploy-hook --failure-hook --hook-timeout --request-timeout --order-timeout"; names=many ;;
    'list') words="--expiring --format --output" ;;
    'ls') words="--expiring --format --output" ;;
    'show') words="--pem"; names=one ;;
    'serve') words="--http-port --http-address" ;;
    'export') words="--out --format --password-file"; names=one ;;
    'revoke') words="--reason --delete"; names=one ;;
    'delete') words="--files"; names=one ;;
    'store') words="copy" ;;
    'store copy') words="--from --to --overwrite" ;;
    'import') words="certbot" ;;
    'import certbot') words="--dry-run --out" ;;
    'config') words="show check" ;;
    'config show') words="" ;;
    'config check') words="" ;;
    'doctor') words="--http-port --http-address --request-timeout"; names=many ;;
    'ca') words="" ;;
    'account') words="register list show update rollover deactivate" ;;
    'account register') words="--email --agree-tos --eab-kid --eab-hmac-key --request-timeout" ;;
    'account list') words="" ;;
    'account show') words="--email --request-timeout" ;;
    'account update') words="--email --no-email --current-email --request-timeout" ;;
    'account rollover') words="--email --request-timeout" ;;
    'account deactivate') words="--email --yes --request-timeout" ;;
    'schedule') words="install status remove" ;;
    'schedule install') words="--systemd --cron --root" ;;
    'schedule status') words="--root" ;;
    'schedule remove') words="--root" ;;
    'completion') words="bash zsh fish" ;;
    *) words="" ;;
  esac
  # the stored certificate names where one is expected, from the store chosen on the line (never an error)
  if [[ $cur != -* ]] && { [[ $names == many ]] || [[ $names == one && $arguments == 0 ]]; }; then
    words+=" $("${COMP_WORDS[0]}" __certificate-names "${store_options[@]}" </dev/null 2>/dev/null)"
  fi
  COMPREPLY=($(compgen -W "$words $global_options" -- "$cur"))
}
complete -F _acmectl acmectl
