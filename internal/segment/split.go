package segment

import (
	"encoding/json"
	"errors"
)

// errSplit means the envelope is not the object splitBatch expects; the
// caller then asks encoding/json for a precise error.
var errSplit = errors.New("malformed batch envelope")

// splitBatch walks the top-level object of a batch body and returns the
// byte spans of the elements of its "batch" array (nil when absent or
// null), without copying or decoding them, and decodes the other envelope
// fields into b. It exists because letting encoding/json produce
// []json.RawMessage scans the whole body twice more than needed.
//
// It only finds where values end; each element span is validated when it is
// decoded, the other spans here, so a body is accepted only if it is valid
// JSON. Any structural problem returns errSplit.
func splitBatch(d []byte, b *wireBatch, maxElems int) ([][]byte, error) {
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return nil, errSplit
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return nil, trailing(d, i+1)
	}
	var elems [][]byte
	for {
		if i >= len(d) || d[i] != '"' {
			return nil, errSplit
		}
		end, err := skipString(d, i)
		if err != nil {
			return nil, err
		}
		key := d[i+1 : end-1]
		if hasEscapeOrControl(key) && !json.Valid(d[i:end]) {
			return nil, errSplit
		}
		i = skipWS(d, end)
		if i >= len(d) || d[i] != ':' {
			return nil, errSplit
		}
		i = skipWS(d, i+1)
		end, err = skipValue(d, i)
		if err != nil {
			return nil, err
		}
		val := d[i:end]
		switch string(key) {
		case "batch":
			if elems, err = splitArray(val, maxElems); err != nil {
				return nil, err
			}
		case "writeKey":
			err = json.Unmarshal(val, &b.WriteKey)
		case "sentAt":
			err = json.Unmarshal(val, &b.SentAt)
		case "context":
			err = json.Unmarshal(val, &b.Context)
		case "integrations":
			err = json.Unmarshal(val, &b.Integrations)
		default:
			if !json.Valid(val) {
				err = errSplit
			}
		}
		if err != nil {
			return nil, errSplit
		}
		i = skipWS(d, end)
		if i >= len(d) {
			return nil, errSplit
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case '}':
			return elems, trailing(d, i+1)
		default:
			return nil, errSplit
		}
	}
}

// errTooMany is returned by splitArray past its element limit.
var errTooMany = errors.New("too many elements")

// splitArray returns the element spans of the JSON array v; null is no
// array. Anything else is errSplit.
func splitArray(v []byte, maxElems int) ([][]byte, error) {
	if string(v) == "null" {
		return nil, nil
	}
	if len(v) == 0 || v[0] != '[' {
		return nil, errSplit
	}
	elems := make([][]byte, 0, 64)
	i := skipWS(v, 1)
	if i < len(v) && v[i] == ']' {
		return elems, trailing(v, i+1)
	}
	for {
		end, err := skipValue(v, i)
		if err != nil {
			return nil, err
		}
		if len(elems) == maxElems {
			return nil, errTooMany
		}
		elems = append(elems, v[i:end])
		i = skipWS(v, end)
		if i >= len(v) {
			return nil, errSplit
		}
		switch v[i] {
		case ',':
			i = skipWS(v, i+1)
		case ']':
			return elems, trailing(v, i+1)
		default:
			return nil, errSplit
		}
	}
}

// skipValue returns the end of the value starting at i. Brackets are only
// counted, not matched: a span with mismatched ones is refused when decoded.
func skipValue(d []byte, i int) (int, error) {
	if i >= len(d) {
		return 0, errSplit
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				end, err := skipString(d, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSplit
	case ',', ':', '}', ']':
		return 0, errSplit
	}
	j := i // a number or a literal
	for j < len(d) {
		switch d[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j, nil
		}
		j++
	}
	return j, nil
}

// skipString returns the end (past the closing quote) of the string whose
// opening quote is at i.
func skipString(d []byte, i int) (int, error) {
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errSplit
}

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// trailing refuses anything but white space after a value.
func trailing(d []byte, i int) error {
	if skipWS(d, i) != len(d) {
		return errSplit
	}
	return nil
}

// hasEscapeOrControl reports whether a string's content needs validating.
func hasEscapeOrControl(s []byte) bool {
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return true
		}
	}
	return false
}
