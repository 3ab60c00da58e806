package mockapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// object is a JSON object that remembers the order of its keys, so that
// generated objects list properties in the schema's order.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[k]
	return v, ok
}

// decodeOrdered parses JSON into nil, bool, json.Number, string, []any and
// *object values.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func readValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = v
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// appendJSON writes an ordered value back as compact JSON.
func appendJSON(buf []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, v)
	case json.Number:
		return append(buf, v...)
	case string:
		return appendString(buf, v)
	case []any:
		buf = append(buf, '[')
		for i, x := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, x)
		}
		return append(buf, ']')
	case *object:
		buf = append(buf, '{')
		for i, k := range v.keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, k)
			buf = append(buf, ':')
			buf = appendJSON(buf, v.vals[k])
		}
		return append(buf, '}')
	}
	return append(buf, "null"...)
}

func appendString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

// generator writes deterministic JSON values that conform to a JSON Schema.
//
// Supported keywords: type (a name or a list), properties, required, items,
// prefixItems, minItems, maxItems, uniqueItems, enum, const, minimum,
// maximum, exclusiveMinimum, exclusiveMaximum (numbers, or booleans as in
// draft 4), multipleOf, minLength, maxLength, format (date-time, date, time,
// email, uri, uuid, ipv4, hostname), $ref to "#/..." pointers ($defs,
// definitions), anyOf, oneOf (the first branch that is not null is taken) and
// allOf (branches merged). Objects get every listed property, in schema order;
// below a nesting depth of 6, and for recursive $refs, only required ones,
// with null chosen where allowed and arrays at their minimum length. A
// schema that requires infinite nesting gets null below depth 64.
// Not supported: pattern, patternProperties, not, if/then/else,
// dependentRequired; values are not checked against them.
//
// Output is capped: a generator writes at most limit bytes (values are
// counted as they are made, so minLength 10^9 or minItems nested ten deep
// fail at once instead of building gigabytes), and the first value over
// the cap sets err, which stops all further generation.
type generator struct {
	root  any
	state uint64
	words []string
	limit int // bytes this generator may still write
	spent int
	err   *TooLargeError
}

// MaxOutputBytes caps the generated JSON of one chat response, over all its
// choices. Kura's structured outputs are a few kB; 4 MiB leaves room for any
// realistic schema and keeps a hostile one from costing more.
const MaxOutputBytes = 4 << 20

// TooLargeError is a schema whose smallest conforming value is over the cap.
type TooLargeError struct {
	Limit int
	What  string // the keyword that asked for it, e.g. "minLength 100000000"
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the schema asks for more than %d bytes of output (%s); kura mock-api generates at most %d bytes per response", e.Limit, e.What, e.Limit)
}

// charge counts n bytes of output; it reports false (and sets err) when that
// goes over the cap.
func (g *generator) charge(n int, what string) bool {
	if g.err != nil {
		return false
	}
	g.spent += n
	if g.spent > g.limit {
		g.err = &TooLargeError{Limit: g.limit, What: what}
		return false
	}
	return true
}

const (
	maxGenDepth     = 6
	maxGenHardDepth = 64
)

// newGenerator returns a generator that writes at most limit bytes.
func newGenerator(root any, seed uint64, words []string, limit int) *generator {
	if len(words) < 8 {
		// Too few words to vary: pad with generic ones.
		words = append(append([]string(nil), words...), fallbackWords...)
	}
	return &generator{root: root, state: seed, words: words, limit: limit}
}

func (g *generator) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (g *generator) intn(n int) int {
	if n <= 1 {
		return 0
	}
	return int(g.next() % uint64(n))
}

func (g *generator) float() float64 { return float64(g.next()>>11) / (1 << 53) }

// generate appends a value for schema s to buf. name is the property name
// the value is for ("" at the top or in arrays).
func (g *generator) generate(buf []byte, s any, name string, depth int, refs []string) []byte {
	if !g.charge(1, "values") { // at least a byte per value: nested minItems are counted
		return buf
	}
	o, ok := s.(*object)
	if !ok {
		if b, isBool := s.(bool); isBool && !b {
			return append(buf, "null"...) // nothing validates against false
		}
		t := g.text(name, 0, -1)
		if !g.charge(len(t), "values") {
			return buf
		}
		return appendString(buf, t)
	}
	if depth > maxGenHardDepth {
		// Only a schema that cannot be satisfied without infinite nesting
		// (a required, non-empty array of itself) gets here.
		return append(buf, "null"...)
	}
	minimal := depth > maxGenDepth
	if ref, ok := o.get("$ref"); ok {
		if r, isStr := ref.(string); isStr {
			for _, seen := range refs {
				if seen == r {
					minimal = true
				}
			}
			if target, err := resolveRef(g.root, r); err == nil {
				if minimal {
					depth = max(depth, maxGenDepth+1)
				}
				return g.generate(buf, target, name, depth+1, append(refs, r))
			}
		}
	}
	if c, ok := o.get("const"); ok {
		n := len(buf)
		buf = appendJSON(buf, c)
		g.charge(len(buf)-n, "const values")
		return buf
	}
	if e, ok := o.get("enum"); ok {
		if vals, isArr := e.([]any); isArr && len(vals) > 0 {
			n := len(buf)
			buf = appendJSON(buf, g.pickEnum(vals, minimal))
			g.charge(len(buf)-n, "enum values")
			return buf
		}
	}
	if all, ok := o.get("allOf"); ok {
		if branches, isArr := all.([]any); isArr && len(branches) > 0 {
			return g.generate(buf, g.mergeAllOf(o, branches), name, depth, refs)
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if alt, ok := o.get(kw); ok {
			if branches, isArr := alt.([]any); isArr && len(branches) > 0 {
				return g.generate(buf, g.pickBranch(branches, minimal), name, depth+1, refs)
			}
		}
	}
	switch g.pickType(o, minimal) {
	case "null":
		return append(buf, "null"...)
	case "boolean":
		return strconv.AppendBool(buf, g.intn(2) == 1)
	case "integer":
		return g.integer(buf, o)
	case "number":
		return g.number(buf, o)
	case "array":
		return g.array(buf, o, name, depth, refs, minimal)
	case "object":
		return g.object(buf, o, depth, refs, minimal)
	default:
		return g.str(buf, o, name)
	}
}

func (g *generator) pickEnum(vals []any, minimal bool) any {
	if minimal {
		for _, v := range vals {
			if v == nil {
				return nil
			}
		}
	}
	var nonNull []any
	for _, v := range vals {
		if v != nil {
			nonNull = append(nonNull, v)
		}
	}
	if len(nonNull) == 0 {
		return nil
	}
	return nonNull[g.intn(len(nonNull))]
}

func isNullSchema(s any) bool {
	o, ok := s.(*object)
	if !ok {
		return false
	}
	t, _ := o.get("type")
	return t == "null"
}

func (g *generator) pickBranch(branches []any, minimal bool) any {
	for _, b := range branches {
		if isNullSchema(b) == minimal {
			return b
		}
	}
	return branches[0]
}

// pickType returns the JSON type to generate: the first non-null type listed
// (null when minimal and allowed), else one inferred from the keywords.
func (g *generator) pickType(o *object, minimal bool) string {
	switch t, _ := o.get("type"); t := t.(type) {
	case string:
		return t
	case []any:
		first := ""
		for _, x := range t {
			if name, ok := x.(string); ok {
				if name == "null" && minimal {
					return "null"
				}
				if name != "null" && first == "" {
					first = name
				}
			}
		}
		if first != "" {
			return first
		}
		if len(t) > 0 {
			return "null"
		}
	}
	for kw, typ := range map[string]string{"properties": "object", "required": "object", "additionalProperties": "object",
		"items": "array", "prefixItems": "array", "minItems": "array", "maxItems": "array",
		"minimum": "number", "maximum": "number", "exclusiveMinimum": "number", "exclusiveMaximum": "number", "multipleOf": "number"} {
		if _, ok := o.get(kw); ok {
			return typ
		}
	}
	return "string"
}

// mergeAllOf folds the branches of allOf (with $refs resolved) and the
// schema's other keywords into one schema: properties and required are
// united, other keywords keep their first value.
func (g *generator) mergeAllOf(o *object, branches []any) *object {
	m := &object{vals: map[string]any{}}
	props := &object{vals: map[string]any{}}
	var required []any
	add := func(s *object) {
		for _, k := range s.keys {
			v := s.vals[k]
			switch k {
			case "allOf":
				continue
			case "properties":
				if p, ok := v.(*object); ok {
					for _, pk := range p.keys {
						if _, dup := props.vals[pk]; !dup {
							props.keys = append(props.keys, pk)
							props.vals[pk] = p.vals[pk]
						}
					}
				}
				continue
			case "required":
				if r, ok := v.([]any); ok {
					required = append(required, r...)
				}
				continue
			}
			if _, dup := m.vals[k]; !dup {
				m.keys = append(m.keys, k)
				m.vals[k] = v
			}
		}
	}
	add(o)
	for _, b := range branches {
		bo, ok := b.(*object)
		for i := 0; ok && i < 8; i++ { // follow a chain of $refs
			ref, has := bo.get("$ref")
			r, isStr := ref.(string)
			if !has || !isStr {
				break
			}
			t, err := resolveRef(g.root, r)
			if err != nil {
				break
			}
			bo, ok = t.(*object)
		}
		if ok {
			add(bo)
		}
	}
	if len(props.keys) > 0 {
		m.keys = append(m.keys, "properties")
		m.vals["properties"] = props
	}
	if len(required) > 0 {
		m.keys = append(m.keys, "required")
		m.vals["required"] = required
	}
	return m
}

// resolveRef follows a local JSON pointer such as "#/$defs/Summary".
func resolveRef(root any, ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("only local $refs are supported, not %q", ref)
	}
	cur := root
	if p == "" {
		return cur, nil
	}
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case *object:
			v, ok := c.get(part)
			if !ok {
				return nil, fmt.Errorf("$ref %q: no %q", ref, part)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("$ref %q: bad index %q", ref, part)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("$ref %q: cannot descend into %q", ref, part)
		}
	}
	return cur, nil
}

func (g *generator) object(buf []byte, o *object, depth int, refs []string, minimal bool) []byte {
	props, _ := o.get("properties")
	po, _ := props.(*object)
	required := map[string]bool{}
	var reqOrder []string
	if r, ok := o.get("required"); ok {
		if list, ok := r.([]any); ok {
			for _, x := range list {
				if k, ok := x.(string); ok && !required[k] {
					required[k] = true
					reqOrder = append(reqOrder, k)
				}
			}
		}
	}
	buf = append(buf, '{')
	n := 0
	emit := func(k string, s any) {
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		buf = appendString(buf, k)
		buf = append(buf, ':')
		buf = g.generate(buf, s, k, depth+1, refs)
	}
	if po != nil {
		for _, k := range po.keys {
			if required[k] || !minimal {
				emit(k, po.vals[k])
			}
		}
	}
	for _, k := range reqOrder {
		if _, listed := po.get(k); !listed {
			emit(k, nil)
		}
	}
	return append(buf, '}')
}

func intKeyword(o *object, k string) (int, bool) {
	v, ok := o.get(k)
	if !ok {
		return 0, false
	}
	f, ok := num(v)
	if !ok || f < 0 {
		return 0, false
	}
	return int(f), true
}

func num(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func (g *generator) array(buf []byte, o *object, name string, depth int, refs []string, minimal bool) []byte {
	lo, _ := intKeyword(o, "minItems")
	hi, hasMax := intKeyword(o, "maxItems")
	var prefix []any
	if p, ok := o.get("prefixItems"); ok {
		prefix, _ = p.([]any)
	}
	items, hasItems := o.get("items")
	if tuple, isArr := items.([]any); isArr { // draft 4-2019 tuple form
		prefix, items, hasItems = tuple, nil, false
	}
	n := 1 + g.intn(3)
	if len(prefix) > 0 {
		n = len(prefix)
	}
	if minimal {
		n = 0
	}
	n = max(n, lo)
	if hasMax {
		n = min(n, hi)
	}
	if n > g.limit-g.spent { // each item takes at least a byte
		g.charge(n, fmt.Sprintf("minItems %d", lo))
		return buf
	}
	unique := false
	if u, ok := o.get("uniqueItems"); ok && u == true {
		unique = true
	}
	if unique {
		// A small enum cannot give more distinct items than it has values.
		if io, ok := items.(*object); ok {
			if e, ok := io.get("enum"); ok {
				if vals, ok := e.([]any); ok {
					n = min(n, len(vals))
					if n < lo {
						n = lo
					}
					buf = append(buf, '[')
					start := g.intn(len(vals))
					for i := 0; i < n; i++ {
						if i > 0 {
							buf = append(buf, ',')
						}
						buf = appendJSON(buf, vals[(start+i)%len(vals)])
					}
					return append(buf, ']')
				}
			}
		}
	}
	itemName := singular(name)
	buf = append(buf, '[')
	var seen map[string]bool
	if unique {
		seen = map[string]bool{}
	}
	for i := 0; i < n && g.err == nil; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		var s any = items
		if i < len(prefix) {
			s = prefix[i]
		} else if !hasItems {
			s = true
		}
		if !unique {
			buf = g.generate(buf, s, itemName, depth+1, refs)
			continue
		}
		var item []byte
		for try := 0; try < 8; try++ {
			item = g.generate(nil, s, itemName, depth+1, refs)
			if !seen[string(item)] {
				break
			}
		}
		if seen[string(item)] && len(item) > 1 && item[0] == '"' {
			// Make a repeated string distinct.
			var str string
			json.Unmarshal(item, &str)
			item = appendString(nil, fmt.Sprintf("%s %d", str, i+1))
		}
		seen[string(item)] = true
		buf = append(buf, item...)
	}
	return append(buf, ']')
}

// singular names the items of an array property: "languages" -> "language".
func singular(name string) string {
	if strings.HasSuffix(name, "ies") {
		return strings.TrimSuffix(name, "ies") + "y"
	}
	return strings.TrimSuffix(name, "s")
}

// bounds reads minimum/maximum and their exclusive forms.
func bounds(o *object) (lo, hi float64, hasLo, hasHi, exLo, exHi bool) {
	lo, hasLo = num(o.vals["minimum"])
	hi, hasHi = num(o.vals["maximum"])
	switch v := o.vals["exclusiveMinimum"].(type) {
	case bool:
		exLo = v && hasLo
	case json.Number:
		if f, ok := num(v); ok && (!hasLo || f >= lo) {
			lo, hasLo, exLo = f, true, true
		}
	}
	switch v := o.vals["exclusiveMaximum"].(type) {
	case bool:
		exHi = v && hasHi
	case json.Number:
		if f, ok := num(v); ok && (!hasHi || f <= hi) {
			hi, hasHi, exHi = f, true, true
		}
	}
	return
}

func (g *generator) integer(buf []byte, o *object) []byte {
	flo, fhi, hasLo, hasHi, exLo, exHi := bounds(o)
	var lo, hi int64
	switch {
	case hasLo && exLo:
		lo = int64(math.Floor(flo)) + 1
	case hasLo:
		lo = int64(math.Ceil(flo))
	}
	switch {
	case hasHi && exHi:
		hi = int64(math.Ceil(fhi)) - 1
	case hasHi:
		hi = int64(math.Floor(fhi))
	}
	switch {
	case hasLo && !hasHi:
		hi = lo + 9
	case hasHi && !hasLo:
		lo = hi - 9
	case !hasLo && !hasHi:
		lo, hi = 0, 9
	}
	if mo, ok := num(o.vals["multipleOf"]); ok && mo >= 1 && mo == math.Trunc(mo) {
		m := int64(mo)
		klo, khi := ceilDiv(lo, m), floorDiv(hi, m)
		if klo <= khi {
			return strconv.AppendInt(buf, (klo+int64(g.intn(int(min(khi-klo+1, 1<<30)))))*m, 10)
		}
		return strconv.AppendInt(buf, klo*m, 10)
	}
	if hi < lo {
		return strconv.AppendInt(buf, lo, 10)
	}
	span := hi - lo + 1
	if span <= 0 || span > 1<<30 {
		span = 1 << 30
	}
	return strconv.AppendInt(buf, lo+int64(g.intn(int(span))), 10)
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (g *generator) number(buf []byte, o *object) []byte {
	lo, hi, hasLo, hasHi, _, _ := bounds(o)
	switch {
	case hasLo && !hasHi:
		hi = lo + 10
	case hasHi && !hasLo:
		lo = hi - 10
	case !hasLo && !hasHi:
		lo, hi = 0, 100
	}
	if mo, ok := num(o.vals["multipleOf"]); ok && mo > 0 {
		klo, khi := math.Floor(lo/mo)+1, math.Ceil(hi/mo)-1 // strictly inside
		if klo > khi {
			klo, khi = math.Ceil(lo/mo), math.Floor(hi/mo)
		}
		k := klo
		if khi > klo {
			k += math.Floor(g.float() * (khi - klo + 1))
		}
		return strconv.AppendFloat(buf, k*mo, 'f', -1, 64)
	}
	// A value strictly inside the range satisfies exclusive bounds too.
	v := lo + (0.1+0.8*g.float())*(hi-lo)
	if r := math.Round(v*100) / 100; r > lo && r < hi {
		v = r
	}
	if !(v > lo && v < hi) {
		v = lo + (hi-lo)/2
	}
	return strconv.AppendFloat(buf, v, 'f', -1, 64)
}

func (g *generator) str(buf []byte, o *object, name string) []byte {
	if f, ok := o.vals["format"].(string); ok {
		if s, ok := g.formatted(f); ok {
			g.charge(len(s), "values")
			return appendString(buf, s)
		}
	}
	minLen, _ := intKeyword(o, "minLength")
	maxLen, hasMax := intKeyword(o, "maxLength")
	if !hasMax {
		maxLen = -1
	}
	what := fmt.Sprintf("minLength %d", minLen)
	if minLen > g.limit-g.spent { // a rune is at least a byte
		g.charge(minLen, what)
		return buf
	}
	t := g.text(name, minLen, maxLen)
	if !g.charge(len(t), what) {
		return buf
	}
	return appendString(buf, t)
}

func (g *generator) formatted(f string) (string, bool) {
	day := 1 + g.intn(28)
	switch f {
	case "date-time":
		return fmt.Sprintf("2025-06-%02dT%02d:%02d:%02dZ", day, g.intn(24), g.intn(60), g.intn(60)), true
	case "date":
		return fmt.Sprintf("2025-06-%02d", day), true
	case "time":
		return fmt.Sprintf("%02d:%02d:%02dZ", g.intn(24), g.intn(60), g.intn(60)), true
	case "email":
		return fmt.Sprintf("user%d@example.com", g.intn(1000)), true
	case "uri", "url", "iri":
		return "https://example.com/" + strings.ToLower(g.word()), true
	case "uuid":
		a, b := g.next(), g.next()
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff), true
	case "ipv4":
		return fmt.Sprintf("192.0.2.%d", 1+g.intn(254)), true
	case "hostname":
		return strings.ToLower(g.word()) + ".example.com", true
	}
	return "", false
}

// text makes a string for a property: a sentence of words from the prompt,
// its length chosen by the property's name, fitted to [minLen, maxLen] runes
// (maxLen < 0: unbounded).
func (g *generator) text(name string, minLen, maxLen int) string {
	n := strings.ToLower(name)
	var s string
	switch {
	case strings.Contains(n, "language"):
		s = "english"
	case n == "id" || strings.HasSuffix(n, "_id"):
		s = fmt.Sprintf("%016x", g.next())
	case containsAny(n, "name", "title", "label", "topic", "category", "tag", "keyword"):
		s = g.phrase(2+g.intn(3), false)
	case containsAny(n, "summary", "description", "explanation", "reason", "rationale", "request", "task", "content", "text", "answer", "error"):
		s = g.phrase(10+g.intn(8), true)
	default:
		s = g.phrase(4+g.intn(4), false)
	}
	if runes := utf8.RuneCountInString(s); runes < minLen {
		// One builder, runes counted as words are added: linear in minLen
		// (re-counting a growing string per word was quadratic).
		var b strings.Builder
		b.Grow(len(s) + 2*(minLen-runes))
		b.WriteString(s)
		for runes < minLen {
			w := g.word()
			b.WriteByte(' ')
			b.WriteString(w)
			runes += 1 + utf8.RuneCountInString(w)
		}
		s = b.String()
	}
	if maxLen >= 0 && utf8.RuneCountInString(s) > maxLen {
		r := []rune(s)[:maxLen]
		s = string(r)
	}
	return s
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func (g *generator) word() string { return g.words[g.intn(len(g.words))] }

// phrase joins k words of the prompt taken from a random place in it, so
// that the text reads as a fragment of the conversation; sentence
// capitalises it and ends it with a full stop.
func (g *generator) phrase(k int, sentence bool) string {
	k = min(k, len(g.words))
	start := g.intn(len(g.words))
	parts := make([]string, k)
	for i := range parts {
		parts[i] = g.words[(start+i)%len(g.words)]
	}
	s := strings.Join(parts, " ")
	if sentence {
		r, size := utf8.DecodeRuneInString(s)
		s = string(unicode.ToUpper(r)) + s[size:] + "."
	}
	return s
}

var fallbackWords = strings.Fields("user assistant conversation request help question answer explain code data model example result problem solution")

var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the and for with that this you your are was were has have had not but can could would should will
		from into about what which when where who whom how why they them their there then than these those its it's our ours
		his her she him yes all any some each other such only own same very just also been being does did doing done
		user assistant please below above following`) {
		stopWords[w] = true
	}
}

// promptWords returns the words of text (letters or digits, at least three
// characters, stop words left out), lowercased, in order of appearance.
func promptWords(text string, limit int) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w := strings.ToLower(f)
		if utf8.RuneCountInString(w) < 3 || utf8.RuneCountInString(w) > 24 || stopWords[w] || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == limit {
			break
		}
	}
	return out
}
