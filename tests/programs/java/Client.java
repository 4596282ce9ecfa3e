import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/** Client ADDR PORT SRC: java.net.Socket, bound to SRC unless it is a wildcard, then
 *  connect(addr, 4000 ms).  Exit 0 once connected, 1 with the exception on stderr. */
public final class Client {
    static final int TIMEOUT_MS = 4000;

    public static void main(String[] args) {
        String addr = args[0], src = args[2];
        int port = Integer.parseInt(args[1]);
        try (Socket socket = new Socket()) {
            if (!src.equals("0.0.0.0") && !src.equals("::")) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(src), 0));
            }
            socket.connect(new InetSocketAddress(InetAddress.getByName(addr), port),
                           TIMEOUT_MS);
            System.out.println("connected " + socket.getLocalSocketAddress() + " -> "
                               + socket.getRemoteSocketAddress());
        } catch (IOException e) {
            System.err.println("connect " + addr + " port " + port + ": " + e);
            System.exit(1);
        }
    }
}
