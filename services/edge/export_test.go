package edge

import "net/http"

// FiberRoutes lists "METHOD pattern" of every handler route registered in fiber (HEAD excluded).
func (s *Service) FiberRoutes() []string {
	var out []string
	for _, r := range s.app.GetRoutes(true) {
		if r.Method != http.MethodHead {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}
