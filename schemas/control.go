package schemas

import "time"

type ControlEvent struct {
	Scope    ControlScope `json:"scope"`
	ID       string       `json:"id"`
	What     ControlWhat  `json:"what"`
	Code     ErrorCode    `json:"code,omitempty"`
	Limit    LimitKind    `json:"limit,omitempty"`
	Reason   string       `json:"reason,omitempty"`
	IssuedAt time.Time    `json:"issued_at"`
}

func (e ControlEvent) Subject() string {
	return ControlSubject(e.Scope, e.ID, e.What)
}
