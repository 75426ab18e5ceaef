#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# push and pull against authenticated remotes on 127.0.0.1: git http-backend behind lighttpd with
# HTTP basic auth (the password from git's credential helper), and sshd with the key in
# ssh-agent (the host key checked against known_hosts). Every ref moved is said on stderr; a
# missing remote, a wrong password and an unknown or changed host key are refused with exit 2.
. "$(dirname "$0")/lib.bash"
# libgit2's own leak over ssh (tests/lsan.supp) is matched by its caller's name: full stacks
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
cd "$T"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT: until something listens there (5 s at most)
	for _ in $(seq 50); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
$MKROOT pve-intel a
$MKROOT kernel-no-vfio b
SOURCE_DATE_EPOCH=1000 "$PCISNAP" collect --root a --store st --label before 2>/dev/null
SOURCE_DATE_EPOCH=2000 "$PCISNAP" collect --root b --store st 2>/dev/null
mkdir -p "$HOME" srv
git init -q --bare srv/fleet.git
git -C srv/fleet.git config http.receivepack true

# --- no remote configured
set +e
"$PCISNAP" push --store st >/dev/null 2>err0; rc0=$?
set -e
check "push without a remote: exit 2, 'no remote configured'" sh -c "test $rc0 = 2 && grep -q \"no remote 'origin' configured\" err0"

# --- HTTP with basic auth
hp=$(free_port)
printf 'ci:s3cret\n' >users
cat >lighttpd.conf <<CONF
server.document-root = "$T/srv"
server.bind = "127.0.0.1"
server.port = $hp
server.errorlog = "$T/lighttpd.err"
server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_auth", "mod_authn_file")
alias.url = ("/git" => "/usr/lib/git-core/git-http-backend")
\$HTTP["url"] =~ "^/git" {
	cgi.assign = ("" => "")
	setenv.add-environment = ("GIT_PROJECT_ROOT" => "$T/srv", "GIT_HTTP_EXPORT_ALL" => "1")
	auth.backend = "plain"
	auth.backend.plain.userfile = "$T/users"
	auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}
CONF
lighttpd -D -f lighttpd.conf 2>lighttpd.out &
pids+=($!)
check "lighttpd serves git http-backend on 127.0.0.1:$hp" wait_port "$hp"
url="http://127.0.0.1:$hp/git/fleet.git"
git config --global credential.helper "store --file=$T/creds"
set +e
"$PCISNAP" push "$url" --store st >/dev/null 2>err1; rc1=$?
set -e
check "HTTP without a credential: exit 2" test "$rc1" = 2
printf 'http://ci:wrong@127.0.0.1:%s\n' "$hp" >creds
set +e
"$PCISNAP" push "$url" --store st >/dev/null 2>err2; rc2=$?
set -e
check "HTTP with a wrong password: exit 2" test "$rc2" = 2
check "the refused password is rejected from the helper" test ! -s creds
printf 'http://ci:s3cret@127.0.0.1:%s\n' "$hp" >creds
"$PCISNAP" push "$url" --store st >out3 2>err3
check "push over HTTP with the helper's password" test "$(git -C srv/fleet.git rev-parse refs/heads/pve-ws-01)" = "$(git --git-dir=st rev-parse refs/heads/pve-ws-01)"
check "push says every ref it created" sh -c "grep -q '^new     refs/heads/pve-ws-01 ' err3 && grep -q '^new     refs/tags/pve-ws-01/before ' err3"
check "push: nothing on stdout" test ! -s out3
"$PCISNAP" pull "$url" --store pulled 2>err4
check "pull over HTTP" test "$("$PCISNAP" log --store pulled --format jsonl | wc -l)" = 2
check "pull says every ref it moved" grep -q '^new     refs/heads/pve-ws-01 ' err4
SOURCE_DATE_EPOCH=3000 "$PCISNAP" collect --root a --store st 2>/dev/null
"$PCISNAP" push "$url" --store st 2>err5
check "a push that moves a branch says old..new" grep -Eq '^updated refs/heads/pve-ws-01 [0-9a-f]{10}\.\.[0-9a-f]{10}$' err5

# --- SSH with ssh-agent
sp=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f hostkey
ssh-keygen -q -t ed25519 -N '' -f userkey
ssh-keygen -q -t ed25519 -N '' -f otherkey
cat userkey.pub >authorized_keys
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
cat >sshd_config <<CONF
Port $sp
ListenAddress 127.0.0.1
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile $T/sshd.pid
CONF
/usr/sbin/sshd -D -e -f sshd_config 2>sshd.err &
pids+=($!)
check "sshd listens on 127.0.0.1:$sp" wait_port "$sp"
eval "$(ssh-agent -s)" >/dev/null
pids+=("$SSH_AGENT_PID")
ssh-add -q userkey 2>/dev/null
sshurl="ssh://$(id -un)@127.0.0.1:$sp$T/srv/fleet.git"
mkdir -p "$HOME/.ssh"
set +e
"$PCISNAP" pull "$sshurl" --store st-unknown >/dev/null 2>err6; rc6=$?
set -e
check "an unknown SSH host key is refused (exit 2)" sh -c "test $rc6 = 2 && grep -q 'not in known_hosts' err6"
echo "[127.0.0.1]:$sp $(cut -d' ' -f1,2 otherkey.pub)" >"$HOME/.ssh/known_hosts"
set +e
"$PCISNAP" pull "$sshurl" --store st-changed >/dev/null 2>err7; rc7=$?
set -e
check "a changed SSH host key is refused (exit 2)" sh -c "test $rc7 = 2 && grep -q 'not the one known_hosts has' err7"
echo "[127.0.0.1]:$sp $(cut -d' ' -f1,2 hostkey.pub)" >"$HOME/.ssh/known_hosts"
"$PCISNAP" pull "$sshurl" --store st-ssh 2>err8
check "pull over SSH with the key in ssh-agent" test "$("$PCISNAP" log --store st-ssh --format jsonl | wc -l)" = 3
SOURCE_DATE_EPOCH=4000 "$PCISNAP" collect --root b --store st-ssh 2>/dev/null
"$PCISNAP" push "$sshurl" --store st-ssh 2>err9
check "push over SSH" test "$(git -C srv/fleet.git rev-parse refs/heads/pve-ws-01)" = "$(git --git-dir=st-ssh rev-parse refs/heads/pve-ws-01)"
check "push over SSH says the ref it moved" grep -q '^updated refs/heads/pve-ws-01 ' err9
ssh-add -q -D 2>/dev/null
set +e
SOURCE_DATE_EPOCH=5000 "$PCISNAP" collect --root a --store st-ssh 2>/dev/null
"$PCISNAP" push "$sshurl" --store st-ssh >/dev/null 2>err10; rc10=$?
set -e
check "SSH without a key in the agent: exit 2" test "$rc10" = 2

finish
