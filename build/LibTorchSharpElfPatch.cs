// Inline MSBuild task (RoslynCodeTaskFactory) used by TorchSharpNativeFix.targets.
//
// TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13, whose <iostream> adds an undefined
// reference to std::ios_base_library_init() versioned GLIBCXX_3.4.32. Nothing ever calls that symbol,
// but glibc refuses to load a library whose version needs are not met by the system libstdc++
// (Debian 12 / Ubuntu 22.04 ship GCC 12's, which stops at 3.4.30). Marking that one version need weak
// (VER_FLG_WEAK in .gnu.version_r) makes the dynamic loader accept the library.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharpVersionNeeds : Task
{
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required] public string SourcePath { get; set; } = "";
    [Required] public string DestinationPath { get; set; } = "";
    public string WeakVersion { get; set; } = "GLIBCXX_3.4.32";

    /// <summary>Semicolon-separated candidates for the system libstdc++; the first that exists is checked.</summary>
    public string SystemLibraryCandidates { get; set; } =
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6;/lib/x86_64-linux-gnu/libstdc++.so.6;/usr/lib64/libstdc++.so.6;/lib64/libstdc++.so.6;/usr/lib/libstdc++.so.6";

    /// <summary>True when the system already provides the version, so no patch is needed.</summary>
    [Output] public bool SystemProvidesVersion { get; set; }

    /// <summary>True when <see cref="DestinationPath"/> holds a patched copy.</summary>
    [Output] public bool Patched { get; set; }

    public override bool Execute()
    {
        try
        {
            string systemLibrary = null;
            foreach (var candidate in SystemLibraryCandidates.Split(';'))
            {
                if (candidate.Length > 0 && File.Exists(candidate)) { systemLibrary = candidate; break; }
            }
            if (systemLibrary != null)
            {
                var defined = ReadVersionDefinitions(File.ReadAllBytes(systemLibrary), systemLibrary);
                SystemProvidesVersion = defined.Contains(WeakVersion);
            }
            if (SystemProvidesVersion)
            {
                Log.LogMessage(MessageImportance.Low, $"{systemLibrary} defines {WeakVersion}; libLibTorchSharp.so needs no patch.");
                return true;
            }

            var image = File.ReadAllBytes(SourcePath);
            MarkVersionNeedWeak(image, SourcePath, WeakVersion);
            Directory.CreateDirectory(Path.GetDirectoryName(DestinationPath));
            if (File.Exists(DestinationPath) && SameBytes(File.ReadAllBytes(DestinationPath), image))
            {
                Patched = true;
                return true;
            }
            var temp = DestinationPath + ".tmp-" + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(temp, image);
            // The task compiles against netstandard2.0, which has no File.Move overwrite overload.
            if (File.Exists(DestinationPath)) File.Replace(temp, DestinationPath, null);
            else File.Move(temp, DestinationPath);
            Patched = true;
            Log.LogMessage(MessageImportance.Normal, $"Wrote {DestinationPath} with {WeakVersion} marked weak (system libstdc++: {systemLibrary ?? "not found"}).");
            return true;
        }
        catch (InvalidDataException ex)
        {
            Log.LogError("TorchSharp native fix: " + ex.Message);
            return false;
        }
    }

    private static bool SameBytes(byte[] a, byte[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    private readonly struct Section
    {
        public Section(uint type, long offset, long size, int link, int info)
        { Type = type; Offset = offset; Size = size; Link = link; Info = info; }
        public uint Type { get; }
        public long Offset { get; }
        public long Size { get; }
        public int Link { get; }
        public int Info { get; }
    }

    private static List<Section> ReadSections(byte[] image, string path)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file.");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file (class {image[4]}, data {image[5]}).");
        long shoff = (long)BitConverter.ToUInt64(image, 0x28);
        int shentsize = BitConverter.ToUInt16(image, 0x3A);
        int shnum = BitConverter.ToUInt16(image, 0x3C);
        if (shentsize != 64 || shoff <= 0 || shoff + (long)shnum * shentsize > image.Length)
            throw new InvalidDataException($"{path} has an unexpected section header table (offset {shoff}, entry size {shentsize}, count {shnum}).");
        var sections = new List<Section>(shnum);
        for (int i = 0; i < shnum; i++)
        {
            int at = checked((int)(shoff + (long)i * shentsize));
            var s = new Section(
                BitConverter.ToUInt32(image, at + 4),
                (long)BitConverter.ToUInt64(image, at + 0x18),
                (long)BitConverter.ToUInt64(image, at + 0x20),
                (int)BitConverter.ToUInt32(image, at + 0x28),
                (int)BitConverter.ToUInt32(image, at + 0x2C));
            if (s.Type != 8 /* SHT_NOBITS */ && s.Offset + s.Size > image.Length)
                throw new InvalidDataException($"{path}: section {i} lies outside the file.");
            sections.Add(s);
        }
        return sections;
    }

    private static string ReadString(byte[] image, Section strtab, long offset, string path)
    {
        long start = strtab.Offset + offset;
        if (offset < 0 || offset >= strtab.Size) throw new InvalidDataException($"{path}: string offset {offset} outside its string table.");
        long end = start;
        long limit = strtab.Offset + strtab.Size;
        while (end < limit && image[end] != 0) end++;
        return Encoding.ASCII.GetString(image, (int)start, (int)(end - start));
    }

    private static HashSet<string> ReadVersionDefinitions(byte[] image, string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var sections = ReadSections(image, path);
        foreach (var section in sections)
        {
            if (section.Type != ShtGnuVerdef) continue;
            var strtab = sections[section.Link];
            long at = section.Offset;
            for (int i = 0; i < section.Info; i++)
            {
                int count = BitConverter.ToUInt16(image, (int)at + 6);
                long aux = at + BitConverter.ToUInt32(image, (int)at + 12);
                for (int j = 0; j < count; j++)
                {
                    names.Add(ReadString(image, strtab, BitConverter.ToUInt32(image, (int)aux), path));
                    aux += BitConverter.ToUInt32(image, (int)aux + 4);
                }
                uint next = BitConverter.ToUInt32(image, (int)at + 16);
                if (next == 0) break;
                at += next;
            }
        }
        return names;
    }

    private static void MarkVersionNeedWeak(byte[] image, string path, string version)
    {
        var sections = ReadSections(image, path);
        int found = 0;
        bool sawVerneed = false;
        foreach (var section in sections)
        {
            if (section.Type != ShtGnuVerneed) continue;
            sawVerneed = true;
            var strtab = sections[section.Link];
            long at = section.Offset;
            for (int i = 0; i < section.Info; i++)
            {
                if (at + 16 > section.Offset + section.Size) throw new InvalidDataException($"{path}: .gnu.version_r entry {i} runs past its section.");
                int count = BitConverter.ToUInt16(image, (int)at + 2);
                long aux = at + BitConverter.ToUInt32(image, (int)at + 8);
                for (int j = 0; j < count; j++)
                {
                    if (aux + 16 > section.Offset + section.Size) throw new InvalidDataException($"{path}: .gnu.version_r auxiliary entry runs past its section.");
                    string name = ReadString(image, strtab, BitConverter.ToUInt32(image, (int)aux + 8), path);
                    if (name == version)
                    {
                        ushort flags = BitConverter.ToUInt16(image, (int)aux + 4);
                        flags |= VerFlagWeak;
                        image[aux + 4] = (byte)(flags & 0xff);
                        image[aux + 5] = (byte)(flags >> 8);
                        found++;
                    }
                    aux += BitConverter.ToUInt32(image, (int)aux + 12);
                }
                uint next = BitConverter.ToUInt32(image, (int)at + 12);
                if (next == 0) break;
                at += next;
            }
        }
        if (!sawVerneed) throw new InvalidDataException($"{path} has no .gnu.version_r section; this TorchSharp build is not the one the fix was written for.");
        if (found != 1) throw new InvalidDataException($"{path} has {found} '{version}' entries in .gnu.version_r where exactly one was expected; update build/LibTorchSharpElfPatch.cs for this TorchSharp version.");
    }
}
