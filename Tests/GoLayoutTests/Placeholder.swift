import XCTest
final class GoLayoutTestsPlaceholder: XCTestCase { func testBuilds() {} }
