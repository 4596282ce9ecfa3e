import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Server ADDR PORT: a java.net.ServerSocket on ADDR:PORT, accepting until killed.
 *  Prints the address once listening; on failure the exception on stderr, exit 1. */
public final class Server {
    public static void main(String[] args) {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getByName(args[0]),
                                              Integer.parseInt(args[1])));
            System.out.println("listening on " + server.getLocalSocketAddress());
            while (true) {
                server.accept().close();
            }
        } catch (IOException e) {
            System.err.println("server " + args[0] + " port " + args[1] + ": " + e);
            System.exit(1);
        }
    }
}
