// Generated from Dashboard/Assets/index.html by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let indexHTML = DashboardAsset(
        name: "index.html",
        text: ####"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <meta name="referrer" content="no-referrer">
              <title>AgentLedger</title>
              <link rel="icon" href="assets/favicon.svg" type="image/svg+xml">
              <link rel="stylesheet" href="assets/app.css">
              <script type="module" src="assets/main.js"></script>
            </head>
            <body>
              <header class="top">
                <a class="brand" href="#/">AgentLedger</a>
                <nav>
                  <a href="#/" data-nav="sessions">Sessions</a>
                  <a href="#/overview" data-nav="overview">Overview</a>
                </nav>
                <form id="search-form" role="search">
                  <input id="search-input" type="search" placeholder="Search prompts, outputs, agents, users" aria-label="Search">
                </form>
                <span id="live-status" class="live live-off" title="Live feed: connecting">live</span>
              </header>
              <main id="view"><p class="muted">Loading…</p></main>
              <dialog id="key-dialog">
                <form id="key-form">
                  <h2>API key required</h2>
                  <p>This collector asks for its API key. It is kept for this tab only.</p>
                  <input id="key-input" type="password" autocomplete="off" aria-label="API key" required>
                  <p id="key-error" class="error" hidden>That key was refused; try again.</p>
                  <button type="submit">Unlock</button>
                </form>
              </dialog>
            </body>
            </html>

            """####)
}
