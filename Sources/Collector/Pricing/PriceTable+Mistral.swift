extension PriceTable {
    /// Mistral AI (La Plateforme): an undated name is priced as its `-latest` model; cache reads 0.1x input.
    static let mistral: [(String, ModelPrice)] = [
        ("mistral-large", mistralPrice(0.50, 1.50)),  // Mistral Large 3 (2512)
        ("mistral-large-2411", mistralPrice(2.00, 6.00)),
        ("mistral-large-2407", mistralPrice(2.00, 6.00)),
        ("mistral-medium", mistralPrice(1.50, 7.50)),  // Mistral Medium 3.5 (2604)
        ("mistral-medium-3", mistralPrice(0.40, 2.00)),
        ("mistral-medium-3.1", mistralPrice(0.40, 2.00)),
        ("mistral-medium-3.5", mistralPrice(1.50, 7.50)),
        ("mistral-medium-2505", mistralPrice(0.40, 2.00)),
        ("mistral-medium-2508", mistralPrice(0.40, 2.00)),
        ("mistral-small", mistralPrice(0.15, 0.60)),  // mistral-small-2603
        ("mistral-small-2506", mistralPrice(0.10, 0.30)),
        ("mistral-small-2503", mistralPrice(0.10, 0.30)),
        ("mistral-small-2501", mistralPrice(0.10, 0.30)),
        ("mistral-small-3", mistralPrice(0.10, 0.30)),
        ("mistral-small-3.1", mistralPrice(0.10, 0.30)),
        ("mistral-small-3.2", mistralPrice(0.10, 0.30)),
        ("magistral-medium", mistralPrice(2.00, 5.00)),
        ("magistral-small", mistralPrice(0.50, 1.50)),
        ("codestral", mistralPrice(0.30, 0.90)),
        ("devstral", mistralPrice(0.40, 2.00)),  // Devstral 2 (2512)
        ("devstral-medium", mistralPrice(0.40, 2.00)),
        ("devstral-small", mistralPrice(0.10, 0.30)),
        ("ministral-8b", mistralPrice(0.10, 0.10)),
        ("ministral-3b", mistralPrice(0.04, 0.04)),
        ("pixtral-large", mistralPrice(2.00, 6.00)),
        ("pixtral-12b", mistralPrice(0.15, 0.15)),
        ("mistral-nemo", mistralPrice(0.15, 0.15)),
        ("open-mistral-nemo", mistralPrice(0.15, 0.15)),
        ("open-mistral-7b", mistralPrice(0.25, 0.25)),
        ("open-mixtral-8x7b", mistralPrice(0.70, 0.70)),
        ("open-mixtral-8x22b", mistralPrice(2.00, 6.00)),
    ]

    private static func mistralPrice(_ input: Double, _ output: Double) -> ModelPrice {
        price(input, cached: ModelPrice.rate(input * 0.1), output)
    }
}
