# Sourced by the other scripts: where the installed tools are found.
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
# Trunk must use the tools installed by setup.sh and never fetch its own.
export TRUNK_OFFLINE=true
