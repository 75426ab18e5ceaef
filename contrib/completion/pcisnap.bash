# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for pcisnap: commands, each command's options, and the hosts and labels of the
# store (--store on the line, else $PCISNAP_STORE or the default) where a snapshot is expected.
# Install as /usr/share/bash-completion/completions/pcisnap, or source it.

_pcisnap_store_args() { # the --store DIR given on the line, as arguments for pcisnap
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--store) printf '%s\n%s\n' --store "${COMP_WORDS[i + 1]}" ;;
		--store=*) printf '%s\n' "${COMP_WORDS[i]}" ;;
		esac
	done
}

_pcisnap_revisions() { # HOST and HOST@LABEL of the store
	local -a store
	mapfile -t store < <(_pcisnap_store_args)
	pcisnap --no-pager log -n 10000 --format jsonl "${store[@]}" 2>/dev/null |
		sed -n 's/.*"host":"\([^"]*\)".*"labels":\[\([^]]*\)\].*/\1 \2/p' |
		while read -r host labels; do
			echo "$host"
			labels=${labels//\"/}
			local IFS=,
			for l in $labels; do echo "$host@$l"; done
		done | sort -u
}

_pcisnap() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cmd="" i
	local commands="collect show check diff log hosts label push pull export import fleet canary accept preflight boot help"
	local common="--store --help --color --no-pager"
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--no-pager | --color*) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$commands --help --version --no-pager --color" -- "$cur")
		return
	fi
	case $prev in
	--kernel)
		mapfile -t COMPREPLY < <(compgen -W "$(ls /lib/modules 2>/dev/null)" -- "$cur")
		return ;;
	--store | --root | --initramfs | --redact-key | --key | -o | --output | --dmesg | --lspci-dump | --pci-ids | --textfile | --journal)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--format)
		case $cmd in
		show) mapfile -t COMPREPLY < <(compgen -W "text tree json" -- "$cur") ;;
		check) mapfile -t COMPREPLY < <(compgen -W "text json prometheus" -- "$cur") ;;
		preflight | boot | canary) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur") ;;
		diff | fleet) mapfile -t COMPREPLY < <(compgen -W "text json markdown" -- "$cur") ;;
		log | hosts) mapfile -t COMPREPLY < <(compgen -W "text json jsonl" -- "$cur") ;;
		esac
		return ;;
	--fail-on)
		mapfile -t COMPREPLY < <(compgen -W "isolation_loss grouping_regression binding_regression harmless all none faults" -- "$cur")
		return ;;
	--gate)
		mapfile -t COMPREPLY < <(compgen -W "none regression isolation" -- "$cur")
		return ;;
	--compression)
		mapfile -t COMPREPLY < <(compgen -W "none gzip xz zstd" -- "$cur")
		return ;;
	--before | --peers) mapfile -t COMPREPLY < <(compgen -W "$(_pcisnap_revisions)" -- "$cur"); return ;;
	--against) mapfile -t COMPREPLY < <(compgen -W "$(_pcisnap_revisions)" -f -- "$cur"); return ;;
	esac
	local opts=""
	case $cmd in
	collect) opts="--root --dmesg --host --lspci-dump --pci-ids --output -o --label --textfile" ;;
	show) opts="--format" ;;
	check) opts="--format --verbose" ;;
	diff) opts="--format --fail-on --allow-inconclusive" ;;
	log) opts="--max-count -n --since --until --format" ;;
	hosts | fleet) opts="--format" ;;
	canary) opts="--before --peers --format --fail-on --allow-inconclusive" ;;
	label) opts="--force -f --delete -d --history" ;;
	accept) opts="--host --model --model-of --reason --list --remove --format" ;;
	export) opts="--against --redact --redact-key --key --compression --output -o" ;;
	import) opts="--key" ;;
	preflight) opts="--kernel --initramfs --root --cmdline --record --format --allow-inconclusive --list-files" ;;
	boot) opts="--root --host --gate --textfile --journal --pci-ids --format" ;;
	help) mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur"); return ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts $common" -- "$cur")
		return
	fi
	case $cmd in
	show | check | diff | label | export | log | preflight)
		local words
		if [ "$cmd" = log ]; then
			words=$(_pcisnap_revisions | grep -v @)
		else
			words=$(_pcisnap_revisions)
		fi
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur"; [ "$cmd" = log ] || compgen -f -- "$cur") ;;
	import) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	canary) mapfile -t COMPREPLY < <(compgen -W "$(_pcisnap_revisions | grep -v '[@~]')" -- "$cur") ;;
	boot)
		local sub="" w
		for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
			case $w in start | stop | last-words) sub=$w ;; esac
		done
		if [ -z "$sub" ]; then
			mapfile -t COMPREPLY < <(compgen -W "start stop last-words" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_pcisnap_revisions)" -- "$cur")
		fi ;;
	esac
}
complete -F _pcisnap pcisnap
