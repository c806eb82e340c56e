# fish completion for acmectl. Generated from the command tree; install it as
# ~/.config/fish/completions/acmectl.fish, or load it: acmectl completion fish | source

# What was typed so far, skipping options and their values: the subcommand path ("account register") on the
# first line, the number of arguments on the second, then the options that choose the store, with their values.
function __acmectl_walk
    set -l tokens (commandline -opc)
    set -l words
    set -l arguments 0
    set -l store_options
    set -l skip 0
    set -l paths 'issue' 'renew' 'list' 'ls' 'show' 'serve' 'export' 'revoke' 'delete' 'store' 'store copy' 'import' 'import certbot' 'config' 'config show' 'config check' 'doctor' 'ca' 'account' 'account register' 'account list' 'account show' 'account update' 'account rollover' 'account deactivate' 'schedule' 'schedule install' 'schedule status' 'schedule remove' 'completion'
    for token in $tokens[2..-1]
        if test $skip = store
            set -a store_options $token
            set skip 0
            continue
        else if test $skip = 1
            set skip 0
            continue
        end
        switch $token
            case --config --store
                set -a store_options $token
                set skip store
            case --ca-bundle --challenge --concurrency --config --current-email --days --deploy-hook --eab-hmac-key --eab-kid --email --expiring --failure-hook --format --from --hook-timeout --http-address --http-port --key-group --key-mode --key-type --name --order-timeout --out --output --password-file --post-hook --pre-hook --preferred-chain --profile --reason --request-timeout --root --server --store --to --version --webroot
                set skip 1
            case '-*'
            case '*'
                # a word extends the command path only when it names a subcommand; else it is an argument
                set -l extended (string join " " -- $words $token)
                if contains -- $extended $paths
                    set -a words $token
                else
                    set arguments (math $arguments + 1)
                end
        end
    end
    echo (string join " " -- $words)
    echo $arguments
    string join \n -- $store_options
end

function __acmectl_at
    set -l walk (__acmectl_walk)
    test "$walk[1]" = "$argv[1]"
end

# The stored certificate names ($argv[1]: one or many expected), from the store chosen on the line; never an error.
function __acmectl_names
    set -l walk (__acmectl_walk)
    if test "$argv[1]" = one; and test "$walk[2]" != 0
        return
    end
    set -l command (commandline -opc)[1]
    $command __certificate-names $walk[3..-1] </dev/null 2>/dev/null
end

complete -c acmectl -f
complete -c acmectl -l version -x
complete -c acmectl -l config -r -F
complete -c acmectl -l store -x
complete -c acmectl -l server -x
complete -c acmectl -l ca-bundle -r -F
complete -c acmectl -l json
complete -c acmectl -l quiet
complete -c acmectl -l verbose
complete -c acmectl -l no-color
complete -c acmectl -n '__acmectl_at \'\'' -a 'issue renew list ls show serve export revoke delete store import config doctor ca account schedule completion'
complete -c acmectl -n '__acmectl_at \'issue\'' -l name -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l standalone
complete -c acmectl -n '__acmectl_at \'issue\'' -l webroot -r -F
complete -c acmectl -n '__acmectl_at \'issue\'' -l challenge -x -a 'standalone webroot store'
complete -c acmectl -n '__acmectl_at \'issue\'' -l http-port -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l http-address -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l no-preflight
complete -c acmectl -n '__acmectl_at \'issue\'' -l key-type -x -a 'ec256 ec384 rsa2048 rsa3072 rsa4096'
complete -c acmectl -n '__acmectl_at \'issue\'' -l profile -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l preferred-chain -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l email -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l agree-tos
complete -c acmectl -n '__acmectl_at \'issue\'' -l eab-kid -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l eab-hmac-key -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l out -r -F
complete -c acmectl -n '__acmectl_at \'issue\'' -l format -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l password-file -r -F
complete -c acmectl -n '__acmectl_at \'issue\'' -l key-group -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l key-mode -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l pre-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l post-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l deploy-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l failure-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l hook-timeout -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l force
complete -c acmectl -n '__acmectl_at \'issue\'' -l dry-run
complete -c acmectl -n '__acmectl_at \'issue\'' -l run-deploy-hooks
complete -c acmectl -n '__acmectl_at \'issue\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l order-timeout -x
complete -c acmectl -n '__acmectl_at \'renew\'' -a '(__acmectl_names many)'
complete -c acmectl -n '__acmectl_at \'renew\'' -l days -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l force
complete -c acmectl -n '__acmectl_at \'renew\'' -l concurrency -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l random-sleep
complete -c acmectl -n '__acmectl_at \'renew\'' -l no-random-sleep
complete -c acmectl -n '__acmectl_at \'renew\'' -l no-preflight
complete -c acmectl -n '__acmectl_at \'renew\'' -l dry-run
complete -c acmectl -n '__acmectl_at \'renew\'' -l run-deploy-hooks
complete -c acmectl -n '__acmectl_at \'renew\'' -l pre-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l post-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l deploy-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l failure-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l hook-timeout -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l order-timeout -x
complete -c acmectl -n '__acmectl_at \'list\'' -l expiring -x
complete -c acmectl -n '__acmectl_at \'list\'' -l format -x
complete -c acmectl -n '__acmectl_at \'list\'' -l output -r -F
complete -c acmectl -n '__acmectl_at \'ls\'' -l expiring -x
complete -c acmectl -n '__acmectl_at \'ls\'' -l format -x
complete -c acmectl -n '__acmectl_at \'ls\'' -l output -r -F
complete -c acmectl -n '__acmectl_at \'show\'' -a '(__acmectl_names one)'
complete -c acmectl -n '__acmectl_at \'show\'' -l pem
complete -c acmectl -n '__acmectl_at \'serve\'' -l http-port -x
complete -c acmectl -n '__acmectl_at \'serve\'' -l http-address -x
complete -c acmectl -n '__acmectl_at \'export\'' -a '(__acmectl_names one)'
complete -c acmectl -n '__acmectl_at \'export\'' -l out -r -F
complete -c acmectl -n '__acmectl_at \'export\'' -l format -x
complete -c acmectl -n '__acmectl_at \'export\'' -l password-file -r -F
complete -c acmectl -n '__acmectl_at \'revoke\'' -a '(__acmectl_names one)'
complete -c acmectl -n '__acmectl_at \'revoke\'' -l reason -x -a 'unspecified keyCompromise affiliationChanged superseded cessationOfOperation'
complete -c acmectl -n '__acmectl_at \'revoke\'' -l delete
complete -c acmectl -n '__acmectl_at \'delete\'' -a '(__acmectl_names one)'
complete -c acmectl -n '__acmectl_at \'delete\'' -l files
complete -c acmectl -n '__acmectl_at \'store\'' -a 'copy'
complete -c acmectl -n '__acmectl_at \'store copy\'' -l from -x
complete -c acmectl -n '__acmectl_at \'store copy\'' -l to -x
complete -c acmectl -n '__acmectl_at \'store copy\'' -l overwrite
complete -c acmectl -n '__acmectl_at \'import\'' -a 'certbot'
complete -c acmectl -n '__acmectl_at \'import certbot\'' -l dry-run
complete -c acmectl -n '__acmectl_at \'import certbot\'' -l out -r -F
complete -c acmectl -n '__acmectl_at \'config\'' -a 'show check'
complete -c acmectl -n '__acmectl_at \'doctor\'' -a '(__acmectl_names many)'
complete -c acmectl -n '__acmectl_at \'doctor\'' -l http-port -x
complete -c acmectl -n '__acmectl_at \'doctor\'' -l http-address -x
complete -c acmectl -n '__acmectl_at \'doctor\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'account\'' -a 'register list show update rollover deactivate'
complete -c acmectl -n '__acmectl_at \'account register\'' -l email -x
complete -c acmectl -n '__acmectl_at \'account register\'' -l agree-tos
complete -c acmectl -n '__acmectl_at \'account register\'' -l eab-kid -x
complete -c acmectl -n '__acmectl_at \'account register\'' -l eab-hmac-key -x
complete -c acmectl -n '__acmectl_at \'account register\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'account show\'' -l email -x
complete -c acmectl -n '__acmectl_at \'account show\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'account update\'' -l email -x
complete -c acmectl -n '__acmectl_at \'account update\'' -l no-email
complete -c acmectl -n '__acmectl_at \'account update\'' -l current-email -x
complete -c acmectl -n '__acmectl_at \'account update\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'account rollover\'' -l email -x
complete -c acmectl -n '__acmectl_at \'account rollover\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'account deactivate\'' -l email -x
complete -c acmectl -n '__acmectl_at \'account deactivate\'' -l yes
complete -c acmectl -n '__acmectl_at \'account deactivate\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'schedule\'' -a 'install status remove'
complete -c acmectl -n '__acmectl_at \'schedule install\'' -l systemd
complete -c acmectl -n '__acmectl_at \'schedule install\'' -l cron
complete -c acmectl -n '__acmectl_at \'schedule install\'' -l root -x
complete -c acmectl -n '__acmectl_at \'schedule status\'' -l root -x
complete -c acmectl -n '__acmectl_at \'schedule remove\'' -l root -x
complete -c acmectl -n '__acmectl_at \'completion\'' -a 'bash zsh fish'
