/// A full-text search of `/api/search`: the user's text and how many calls to return at most.
package struct SearchQuery: Sendable, Equatable {
    package var text: String
    package var limit: Int

    package init(text: String, limit: Int = 50) {
        self.text = text
        self.limit = limit
    }

    /// The query's terms as `SearchText` normalizes them; empty when nothing in it can match a word.
    var terms: [String] { SearchText.terms(of: text) }
}
