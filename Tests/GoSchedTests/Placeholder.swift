import XCTest
final class GoSchedTestsPlaceholder: XCTestCase { func testBuilds() {} }
