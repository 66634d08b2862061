// Stand-in for a student's single-client server in Java (the handout's listing 2, in the
// language of another course): never closes a connection after "Fin".
// Usage: java Serveur PORT
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class Serveur {
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 9500;
        ServerSocket serveur = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"));
        System.out.println("Lancement serveur");
        while (true) {
            Socket client = serveur.accept();
            System.out.println("Connexion de la machine " + client.getRemoteSocketAddress());
            InputStream in = client.getInputStream();
            byte[] buffer = new byte[1024];
            String recu = "";
            while (!recu.equals("Fin")) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                recu = new String(buffer, 0, n, StandardCharsets.UTF_8).trim();
                System.out.println(recu);
            }
            System.out.println("Deconnexion de : " + client.getRemoteSocketAddress());
        }
    }
}
