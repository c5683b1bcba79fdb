
# What the words before the cursor mean, from the tables above: the command
# (or report's VIEW) whose options apply, report's FILE, where '--' was.
_kmemscope() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd="" ctx="" file="" view=0 want="" i w
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((i == 1)) && [[ $w != -* ]]; then
			_kmemscope_command "$w"
			cmd=$REPLY ctx=$REPLY
			continue
		fi
		[[ -n $cmd ]] || cmd=summary ctx=summary	# 'kmemscope -d 5' is summary
		if [[ $w == -- ]]; then
			_kmemscope_options "$ctx"
			if [[ " $REPLY " == *" -- "* ]]; then
				_kmemscope_after_dashdash $((i + 1))
				return
			fi
			continue
		fi
		if [[ $w == -?* ]]; then
			_kmemscope_value "$w"
			[[ -n $REPLY ]] || continue
			if [[ ${COMP_WORDS[i + 1]} == = ]]; then	# --output=FILE, split at '='
				((i + 1 == COMP_CWORD)) && cur=""
				((i + 1 == COMP_CWORD || i + 2 == COMP_CWORD)) && want=$w
				((i += 2))
			else
				((i + 1 == COMP_CWORD)) && want=$w
				((i += 1))
			fi
			continue
		fi
		_kmemscope_operand "$cmd"
		[[ -n $REPLY ]] || continue
		if [[ -z $file ]]; then
			file=$w ctx=$cmd/top view=$((i + 1))	# the view may follow FILE
		elif ((view == i)); then
			ctx=$cmd/$w
		fi
	done
	if [[ -n $want ]]; then
		_kmemscope_value "$want"
		_kmemscope_complete_value "$REPLY"
	elif [[ -z $cmd && $cur != -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_kmemscope_commands" -- "$cur")
	elif [[ $cur == -* ]]; then
		_kmemscope_options "${ctx:-kmemscope}"
		mapfile -t COMPREPLY < <(compgen -W "$REPLY" -- "$cur")
	elif [[ -n $cmd ]]; then
		_kmemscope_operand "$cmd"
		if [[ -n $REPLY && -z $file ]]; then
			_kmemscope_complete_value "$REPLY"
		elif [[ -n $REPLY ]] && ((view == COMP_CWORD)); then
			_kmemscope_views "$cmd"
			mapfile -t COMPREPLY < <(compgen -W "$REPLY" -- "$cur")
		fi
	fi
	return 0
}

# A unique prefix names a command, as kmemscope itself takes it.
_kmemscope_command() {
	local c hit=""
	for c in $_kmemscope_commands; do
		[[ $c == "$1" ]] && { REPLY=$c; return; }
		if [[ $c == "$1"* ]]; then
			[[ -z $hit ]] && hit=$c || hit="?"
		fi
	done
	REPLY=${hit:-?}
}

# What an option's value completes with: file, recording, user, words W..., or '-'.
_kmemscope_complete_value() {
	case $1 in
	file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	recording)	# kmemscope recordings and directories; any file if none
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -X '!*.kms' -- "$cur"; compgen -d -- "$cur")
		((${#COMPREPLY[@]})) || mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	user)
		mapfile -t COMPREPLY < <(compgen -u -- "$cur")
		;;
	words\ *)
		mapfile -t COMPREPLY < <(compgen -W "${1#words }" -- "$cur")
		;;
	esac
}

# After '--' only a command: its own completion where bash-completion has one.
_kmemscope_after_dashdash() {
	if declare -F _command_offset >/dev/null; then
		_command_offset "$1"
	elif ((COMP_CWORD == $1)); then
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
	else
		compopt -o default 2>/dev/null
	fi
}

complete -F _kmemscope kmemscope
