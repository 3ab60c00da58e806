package human

import "strings"

// Wrap breaks every line of text that is longer than width bytes at spaces,
// so that no line is longer than width. A continuation line is indented two
// spaces more than the line it continues; a word longer than the room left
// is cut. A flag and its value ("--reduce none") and a number and the word
// after it ("20 MiB", "19 clusters") are kept on one line when the line can
// break elsewhere. Width
// is counted in bytes, so a line with multi-byte characters is broken early
// rather than late. Width below 20 is taken as 20.
func Wrap(text string, width int) string {
	width = max(width, 20)
	var b strings.Builder
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(wrapLine(line, width))
	}
	return b.String()
}

func wrapLine(line string, width int) string {
	line = strings.TrimRight(line, " ")
	if len(line) <= width {
		return line
	}
	lead := len(line) - len(strings.TrimLeft(line, " "))
	indent := strings.Repeat(" ", min(lead+2, width/2))
	var out []string
	cur := line
	for len(cur) > width {
		cut := lastBreak(cur, width, len(indent))
		if cut <= len(indent) || strings.TrimSpace(cur[:cut]) == "" {
			cut = width // one word longer than the room: cut it
		}
		out = append(out, strings.TrimRight(cur[:cut], " "))
		cur = indent + strings.TrimLeft(cur[cut:], " ")
	}
	return strings.Join(append(out, cur), "\n")
}

// lastBreak returns the index of the last space in s[:width+1] after the
// first indent bytes that a line may break at: not one between a flag and
// its value ("--reduce none", "--plan-for 100k") or after a number ("20
// MiB", "19 projected"), unless there is no other.
// It returns -1 when s[:width+1] has no space.
func lastBreak(s string, width, indent int) int {
	last := strings.LastIndexByte(s[:width+1], ' ')
	for i := last; i > indent; i = strings.LastIndexByte(s[:i], ' ') {
		if !joinsFlagValue(s, i) && !joinsNumberUnit(s, i) {
			return i
		}
	}
	return last
}

// joinsFlagValue reports whether the space at s[i] comes after a long flag
// (--name, perhaps after an opening bracket or quote, nothing after it)
// and before a word that is not a flag.
func joinsFlagValue(s string, i int) bool {
	word := strings.TrimLeft(s[strings.LastIndexByte(s[:i], ' ')+1:i], "('\"`")
	name, ok := strings.CutPrefix(word, "--")
	if !ok || name == "" || i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == '-' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// units are the units Bytes, Duration and kura's other figures write
// after a number.
var units = map[string]bool{"bytes": true, "KiB": true, "MiB": true, "GiB": true, "TiB": true,
	"ms": true, "s": true, "min": true, "h": true, "dims": true}

// joinsNumberUnit reports whether the space at s[i] comes after a number
// and before its unit or the word it counts ("20 MiB", "12.5 min,", "19
// projected clusters"): a plain word of letters, perhaps with closing
// punctuation. A number before anything else ("(time", "R²=0.7") may end
// a line.
func joinsNumberUnit(s string, i int) bool {
	if i == 0 || s[i-1] < '0' || s[i-1] > '9' {
		return false
	}
	next := s[i+1:]
	if j := strings.IndexByte(next, ' '); j >= 0 {
		next = next[:j]
	}
	next = strings.TrimRight(next, ",;:.)")
	if next == "" || units[next] {
		return next != ""
	}
	for _, c := range next {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Hang breaks s at spaces into lines of at most width bytes (a longer
// word stays whole), every line after the first indented by indent spaces: text that
// follows something already on its first line, such as a command's summary
// beside its name in kura --help. Width below 20 leaves s on one line.
func Hang(s string, width, indent int) string {
	if width < 20 {
		return s
	}
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
