
# The same walk as the bash completion: the command (or report's VIEW) whose
# options apply, report's FILE, where '--' was.
_kmemscope() {
	local cmd= ctx= file= want= w
	integer i view=0
	for (( i = 2; i < CURRENT; i++ )); do
		w=$words[i]
		if (( i == 2 )) && [[ $w != -* ]]; then
			_kmemscope_command $w
			cmd=$REPLY ctx=$REPLY
			continue
		fi
		[[ -n $cmd ]] || { cmd=summary; ctx=summary }	# 'kmemscope -d 5' is summary
		if [[ $w == -- ]]; then
			if [[ " ${_kmemscope_options[$ctx]} " == *" -- "* ]]; then
				shift $i words	# only a command, with its own completion
				(( CURRENT -= i ))
				_normal
				return
			fi
			continue
		fi
		if [[ $w == -?* ]]; then
			[[ -n ${_kmemscope_value[$w]} ]] || continue
			(( i + 1 == CURRENT )) && want=$w
			(( i++ ))
			continue
		fi
		[[ -n ${_kmemscope_operand[$cmd]} ]] || continue
		if [[ -z $file ]]; then
			file=$w ctx=$cmd/top view=$(( i + 1 ))	# the view may follow FILE
		elif (( view == i )); then
			ctx=$cmd/$w
		fi
	done
	if [[ -z $want && $PREFIX == --*=* ]]; then	# --output=FILE
		want=${PREFIX%%=*}
		compset -P '*='
	fi
	if [[ -n $want ]]; then
		_kmemscope_complete_value ${=_kmemscope_value[$want]}
	elif [[ -z $cmd && $PREFIX != -* ]]; then
		_describe -t commands 'kmemscope command' _kmemscope_described
	elif [[ $PREFIX == -* ]]; then
		compadd -- ${=_kmemscope_options[${ctx:-kmemscope}]}
	elif [[ -n $cmd && -n ${_kmemscope_operand[$cmd]} ]]; then
		if [[ -z $file ]]; then
			_kmemscope_complete_value ${_kmemscope_operand[$cmd]}
		elif (( view == CURRENT )); then
			compadd -- ${=_kmemscope_views[$cmd]}
		fi
	fi
}

# A unique prefix names a command, as kmemscope itself takes it.
_kmemscope_command() {
	local c hit=
	for c in $_kmemscope_commands; do
		[[ $c == $1 ]] && { REPLY=$c; return }
		[[ $c == $1* ]] && { [[ -z $hit ]] && hit=$c || hit='?' }
	done
	REPLY=${hit:-?}
}

_kmemscope_complete_value() {
	case $1 in
	file) _files ;;
	recording) _files -g '*.kms' ;;
	user) _users ;;
	words) shift; compadd -- "$@" ;;
	esac
}

_kmemscope "$@"
