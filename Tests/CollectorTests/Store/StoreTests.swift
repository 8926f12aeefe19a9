import Testing

/// The store suites. Serialized because the Postgres restart test stops the one server every Postgres test uses.
@Suite(.serialized) enum StoreTests {}
