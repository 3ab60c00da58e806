package human

import "strings"

// Wrap breaks every line of text that is longer than width bytes at spaces,
// so that no line is longer than width. A continuation line is indented two
// spaces more than the line it continues; a word longer than the room left
// is cut. Width is counted in bytes, so a line with multi-byte characters is
// broken early rather than late. Width below 20 is taken as 20.
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
		cut := strings.LastIndexByte(cur[:width+1], ' ')
		if cut <= len(indent) || strings.TrimSpace(cur[:cut]) == "" {
			cut = width // one word longer than the room: cut it
		}
		out = append(out, strings.TrimRight(cur[:cut], " "))
		cur = indent + strings.TrimLeft(cur[cut:], " ")
	}
	return strings.Join(append(out, cur), "\n")
}
