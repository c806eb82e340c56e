# fish completion for acmectl. Generated from the command tree; install it as
# ~/.config/fish/completions/acmectl.fish, or load it: acmectl completion fish | source

# The subcommand path typed so far ("account register"), skipping options and their values.
function __acmectl_path
    set -l tokens (commandline -opc)
    set -l words
    set -l skip 0
    set -l paths 'issue' 'renew' 'list' 'ls' 'show' 'serve' 'export' 'revoke' 'delete' 'store' 'store copy' 'config' 'config show' 'config check' 'ca' 'account' 'account register' 'account list' 'account show' 'account update' 'account rollover' 'account deactivate' 'completion'
    for token in $tokens[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $token
            case --ca-bundle --challenge --concurrency --config --current-email --days --deploy-hook --eab-hmac-key --eab-kid --email --expiring --format --from --hook-timeout --http-address --http-port --key-type --name --order-timeout --out --output --password-file --post-hook --pre-hook --preferred-chain --profile --reason --request-timeout --server --store --to --version --webroot
                set skip 1
            case '-*'
            case '*'
                # a word extends the command path only when it names a subcommand; else it is an argument
                set -l extended (string join " " -- $words $token)
                if contains -- $extended $paths
                    set -a words $token
                end
        end
    end
    string join " " -- $words
end

function __acmectl_at
    set -l typed (__acmectl_path)
    test "$typed" = "$argv[1]"
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
complete -c acmectl -n '__acmectl_at \'\'' -a 'issue renew list ls show serve export revoke delete store config ca account completion'
complete -c acmectl -n '__acmectl_at \'issue\'' -l name -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l standalone
complete -c acmectl -n '__acmectl_at \'issue\'' -l webroot -r -F
complete -c acmectl -n '__acmectl_at \'issue\'' -l challenge -x -a 'standalone webroot store'
complete -c acmectl -n '__acmectl_at \'issue\'' -l http-port -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l http-address -x
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
complete -c acmectl -n '__acmectl_at \'issue\'' -l pre-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l post-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l deploy-hook -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l hook-timeout -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l force
complete -c acmectl -n '__acmectl_at \'issue\'' -l dry-run
complete -c acmectl -n '__acmectl_at \'issue\'' -l run-deploy-hooks
complete -c acmectl -n '__acmectl_at \'issue\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'issue\'' -l order-timeout -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l days -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l force
complete -c acmectl -n '__acmectl_at \'renew\'' -l concurrency -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l random-sleep
complete -c acmectl -n '__acmectl_at \'renew\'' -l no-random-sleep
complete -c acmectl -n '__acmectl_at \'renew\'' -l dry-run
complete -c acmectl -n '__acmectl_at \'renew\'' -l run-deploy-hooks
complete -c acmectl -n '__acmectl_at \'renew\'' -l pre-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l post-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l deploy-hook -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l hook-timeout -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l request-timeout -x
complete -c acmectl -n '__acmectl_at \'renew\'' -l order-timeout -x
complete -c acmectl -n '__acmectl_at \'list\'' -l expiring -x
complete -c acmectl -n '__acmectl_at \'list\'' -l format -x
complete -c acmectl -n '__acmectl_at \'list\'' -l output -r -F
complete -c acmectl -n '__acmectl_at \'ls\'' -l expiring -x
complete -c acmectl -n '__acmectl_at \'ls\'' -l format -x
complete -c acmectl -n '__acmectl_at \'ls\'' -l output -r -F
complete -c acmectl -n '__acmectl_at \'show\'' -l pem
complete -c acmectl -n '__acmectl_at \'serve\'' -l http-port -x
complete -c acmectl -n '__acmectl_at \'serve\'' -l http-address -x
complete -c acmectl -n '__acmectl_at \'export\'' -l out -r -F
complete -c acmectl -n '__acmectl_at \'export\'' -l format -x
complete -c acmectl -n '__acmectl_at \'export\'' -l password-file -r -F
complete -c acmectl -n '__acmectl_at \'revoke\'' -l reason -x -a 'unspecified keyCompromise affiliationChanged superseded cessationOfOperation'
complete -c acmectl -n '__acmectl_at \'revoke\'' -l delete
complete -c acmectl -n '__acmectl_at \'delete\'' -l files
complete -c acmectl -n '__acmectl_at \'store\'' -a 'copy'
complete -c acmectl -n '__acmectl_at \'store copy\'' -l from -x
complete -c acmectl -n '__acmectl_at \'store copy\'' -l to -x
complete -c acmectl -n '__acmectl_at \'store copy\'' -l overwrite
complete -c acmectl -n '__acmectl_at \'config\'' -a 'show check'
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
complete -c acmectl -n '__acmectl_at \'completion\'' -a 'bash zsh fish'
