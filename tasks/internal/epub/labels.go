package epub

import "strings"

// labels are the words the book's own pages use, in the book's language.
type labels struct {
	Contents, Cover, TitlePage, Start, SceneBreak string
}

func labelsFor(lang string) labels {
	switch strings.ToLower(strings.SplitN(lang, "-", 2)[0]) {
	case "ko":
		return labels{Contents: "차례", Cover: "표지", TitlePage: "속표지", Start: "본문", SceneBreak: "장면 전환"}
	case "ja":
		return labels{Contents: "目次", Cover: "表紙", TitlePage: "扉", Start: "本文", SceneBreak: "場面転換"}
	case "zh":
		return labels{Contents: "目录", Cover: "封面", TitlePage: "扉页", Start: "正文", SceneBreak: "场景转换"}
	}
	return labels{Contents: "Contents", Cover: "Cover", TitlePage: "Title page", Start: "Start", SceneBreak: "Scene break"}
}
