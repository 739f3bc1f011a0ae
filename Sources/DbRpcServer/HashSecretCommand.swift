import ArgumentParser
import Foundation
import LoadServer

extension DbRpcServer {
    struct HashSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-secret",
            abstract: "Make a users-file line for a user: name, role and a PBKDF2-SHA256 hash of the password.",
            discussion: """
                Reads the password from the first line of standard input (or --password-file) and \
                prints `name:role:pbkdf2-sha256$…`; the password itself is never stored.

                Example: echo "$SECRET" | dbrpcserver hash-secret --user cu --role curator >> /etc/wsa/rpc-users
                """)

        @Option(help: "The user name (letters, digits, . _ -).")
        var user: String

        @Option(help: "curator (may write) or reader (may only ask).")
        var role: String = "curator"

        @Option(name: .customLong("password-file"), help: ArgumentHelp("Read the password from this file's first line.", valueName: "file"))
        var passwordFile: String?

        @Option(help: "PBKDF2 iterations.")
        var iterations = 210_000

        func validate() throws {
            if let problem = CredentialStore.problem(withUser: user) { throw ValidationError(problem) }
            guard role == LoadServerMethods.curator || role == LoadServerMethods.reader else {
                throw ValidationError("--role must be curator or reader, not \(role)")
            }
            guard (1...10_000_000).contains(iterations) else {
                throw ValidationError("--iterations must be 1 to 10000000")
            }
        }

        func run() throws {
            let text: String
            if let passwordFile {
                guard let data = FileManager.default.contents(atPath: passwordFile) else {
                    throw ValidationError("cannot read \(passwordFile)")
                }
                text = String(decoding: data, as: UTF8.self)
            } else {
                text = readLine(strippingNewline: false) ?? ""
            }
            let password = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            guard !password.isEmpty else { throw ValidationError("empty password") }
            print(CredentialStore.line(user: user, role: role, password: password, iterations: iterations))
        }
    }
}
