package natsauth

import "github.com/httvps/httvps/shared/natsx"

// provisionSubjects is the JetStream API natsx.Provision calls for the streams and durables of c:
// info, create and update of each stream; info, create and delete (to recreate) of each durable.
// Nothing reads, purges or deletes a stream, and no message is published or read.
func provisionSubjects(c natsx.StreamsConfig) []string {
	out := []string{"$JS.API.INFO"}
	for _, sc := range c.Streams() {
		for _, verb := range []string{"INFO", "CREATE", "UPDATE"} {
			out = append(out, "$JS.API.STREAM."+verb+"."+sc.Name)
		}
	}
	for _, cs := range c.Consumers() {
		for _, verb := range []string{"INFO", "CREATE", "DELETE"} {
			out = append(out, "$JS.API.CONSUMER."+verb+"."+cs.Stream+"."+cs.Config.Durable)
		}
	}
	return out
}
