package flow

import (
	"encoding/json"
	"strings"
)

// fieldDecoder turns a stored JSON object (event properties or context)
// into the map the scoring rules see, decoding only the top-level keys the
// model reads: for a model that reads properties.path, a page view's
// properties cost one scan of the text and no allocation once the path was
// seen. A model that reads the whole map decodes it in full.
type fieldDecoder struct {
	full bool            // decode everything
	keys map[string]bool // top-level keys to decode
	m    map[string]any  // reused between events
	// strs interns decoded strings: paths and names repeat; vals holds
	// them boxed, so storing one in the map does not allocate.
	strs map[string]string
	vals map[string]any
}

// newFieldDecoder reads the model's event fields under prefix
// ("properties" or "context"); nil when the model reads none of them.
func newFieldDecoder(fields []string, prefix string) *fieldDecoder {
	d := &fieldDecoder{keys: map[string]bool{}, m: map[string]any{}, strs: map[string]string{}, vals: map[string]any{}}
	used := false
	for _, f := range fields {
		switch {
		case f == prefix:
			d.full, used = true, true
		case strings.HasPrefix(f, prefix+"."):
			k, _, _ := strings.Cut(f[len(prefix)+1:], ".")
			d.keys[k], used = true, true
		}
	}
	if !used {
		return nil
	}
	return d
}

const maxInterned = 1 << 14

func (d *fieldDecoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s
}

// decode returns the map for raw. The map is only valid until the next
// call (it is reused) unless the decoder decodes in full.
func (d *fieldDecoder) decode(raw []byte) (map[string]any, error) {
	if d.full {
		if len(raw) == 0 || string(raw) == "{}" {
			return nil, nil
		}
		var m map[string]any
		err := json.Unmarshal(raw, &m)
		return m, err
	}
	clear(d.m)
	if len(raw) == 0 || string(raw) == "{}" {
		return d.m, nil
	}
	s := scanner{b: raw}
	s.ws()
	if !s.eat('{') {
		return d.slow(raw)
	}
	s.ws()
	if s.eat('}') {
		return d.m, nil
	}
	for {
		s.ws()
		kb, esc, ok := s.str()
		if !ok {
			return d.slow(raw)
		}
		s.ws()
		if !s.eat(':') {
			return d.slow(raw)
		}
		s.ws()
		start := s.i
		kind, vesc, ok := s.value()
		if !ok {
			return d.slow(raw)
		}
		if esc {
			return d.slow(raw) // an escaped key: let encoding/json unescape it
		}
		if d.keys[string(kb)] {
			v, ok := d.val(raw[start:s.i], kind, vesc)
			if !ok {
				return d.slow(raw)
			}
			d.m[d.intern(kb)] = v
		}
		s.ws()
		if s.eat('}') {
			return d.m, nil
		}
		if !s.eat(',') {
			return d.slow(raw)
		}
	}
}

// val decodes one value; strings without escapes take the fast path.
func (d *fieldDecoder) val(b []byte, kind byte, esc bool) (any, bool) {
	switch {
	case kind == '"' && !esc:
		if v, ok := d.vals[string(b[1:len(b)-1])]; ok {
			return v, true
		}
		s := d.intern(b[1 : len(b)-1])
		var v any = s
		if len(d.vals) < maxInterned {
			d.vals[s] = v
		}
		return v, true
	case kind == 't':
		return true, true
	case kind == 'f':
		return false, true
	case kind == 'n':
		return nil, true
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false
	}
	return v, true
}

// slow decodes raw in full and keeps the wanted keys: for text the scanner
// does not follow (escaped keys, malformed JSON).
func (d *fieldDecoder) slow(raw []byte) (map[string]any, error) {
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	clear(d.m)
	for k, v := range all {
		if d.keys[k] {
			d.m[k] = v
		}
	}
	return d.m, nil
}

// scanner walks JSON text without decoding it.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string and returns its raw content, whether it has escapes.
func (s *scanner) str() ([]byte, bool, bool) {
	if !s.eat('"') {
		return nil, false, false
	}
	start, esc := s.i, false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			esc = true
			s.i += 2
			continue
		case '"':
			out := s.b[start:s.i]
			s.i++
			return out, esc, true
		}
		s.i++
	}
	return nil, false, false
}

// value skips one value and returns its first byte and, for a string,
// whether it has escapes.
func (s *scanner) value() (byte, bool, bool) {
	if s.i >= len(s.b) {
		return 0, false, false
	}
	c := s.b[s.i]
	switch c {
	case '"':
		_, esc, ok := s.str()
		return c, esc, ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, _, ok := s.str(); !ok {
					return 0, false, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return c, false, true
				}
			}
			s.i++
		}
		return 0, false, false
	default: // number, true, false, null
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if s.i == start {
					return 0, false, false
				}
				return c, false, true
			}
			s.i++
		}
		return 0, false, false
	}
}
