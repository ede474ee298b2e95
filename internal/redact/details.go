package redact

import (
	"reflect"
	"strings"
)

// maxDepth bounds how deep Details descends, against cyclic values.
const maxDepth = 32

// Details returns v with every string it holds passed through the
// Redactor, and every string held under a name ending in "password" (a
// struct field or its JSON name, a map key) masked whole: check details
// are shown in probe bodies and metric labels, as errors are. Only
// exported fields are read. What holds no change comes back as it is (the
// same pointers); what does is copied, so v itself is never modified.
func (r *Redactor) Details(v any) any {
	if v == nil {
		return nil
	}
	out, changed := r.walk(reflect.ValueOf(v), false, 0)
	if !changed {
		return v
	}
	return out.Interface()
}

// walk returns v redacted and whether anything changed; secret says v is
// held under a password's name.
func (r *Redactor) walk(v reflect.Value, secret bool, depth int) (reflect.Value, bool) {
	if depth > maxDepth {
		return v, false
	}
	switch v.Kind() {
	case reflect.String:
		s := r.String(v.String())
		if secret && v.Len() > 0 {
			s = Mask
		}
		if s == v.String() {
			return v, false
		}
		out := reflect.New(v.Type()).Elem()
		out.SetString(s)
		return out, true
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		elem, changed := r.walk(v.Elem(), secret, depth+1)
		if !changed {
			return v, false
		}
		if v.Kind() == reflect.Interface {
			out := reflect.New(v.Type()).Elem()
			out.Set(elem)
			return out, true
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(elem)
		return out, true
	case reflect.Struct:
		var out reflect.Value
		for i := range v.NumField() {
			field := v.Type().Field(i)
			if !field.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			f, changed := r.walk(v.Field(i), secret || isPasswordKey(field.Name) || isPasswordKey(name), depth+1)
			if !changed {
				continue
			}
			if !out.IsValid() {
				out = reflect.New(v.Type()).Elem()
				out.Set(v)
			}
			out.Field(i).Set(f)
		}
		return out, out.IsValid()
	case reflect.Slice, reflect.Array:
		var out reflect.Value
		for i := range v.Len() {
			e, changed := r.walk(v.Index(i), secret, depth+1)
			if !changed {
				continue
			}
			if !out.IsValid() {
				if v.Kind() == reflect.Slice {
					out = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
					reflect.Copy(out, v)
				} else {
					out = reflect.New(v.Type()).Elem()
					out.Set(v)
				}
			}
			out.Index(i).Set(e)
		}
		return out, out.IsValid()
	case reflect.Map:
		changed := false
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k, kc := r.walk(iter.Key(), false, depth+1)
			keySecret := iter.Key().Kind() == reflect.String && isPasswordKey(iter.Key().String())
			e, ec := r.walk(iter.Value(), secret || keySecret, depth+1)
			changed = changed || kc || ec
			out.SetMapIndex(k, e)
		}
		if !changed {
			return v, false
		}
		return out, true
	}
	return v, false
}
