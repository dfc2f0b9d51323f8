import XCTest
final class GoGCPlaceholderTests: XCTestCase { func testBuilds() {} }
