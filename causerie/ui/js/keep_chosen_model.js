// After the page's model list arrives: the best listed model replaces the one the page opened
// with, unless the person has picked or typed another meanwhile (the list may take seconds).
(now, openedWith, pick) => (pick && (!now || now === openedWith)) ? pick : now
